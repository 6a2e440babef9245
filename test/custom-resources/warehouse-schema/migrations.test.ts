/**
 * Reading and validating the warehouse migrations (lib/custom-resources/warehouse-schema/migrations.ts): the
 * statement splitter's edge cases, file names, gaps and duplicates (which fail the synth naming
 * the file), and the custom resource's `Migrations` property as the handler validates it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  MAX_STATEMENTS_PER_MIGRATION, MigrationError, parseMigration, parseMigrationProperties, readMigrations, splitStatements,
  toMigrationProperty,
} from '../../../lib/custom-resources/warehouse-schema/migrations';

const fixtures = path.join(__dirname, 'fixtures');

describe('splitStatements', () => {
  it('splits at ; outside quotes, identifiers, comments and dollar-quoted bodies', () => {
    const sql = [
      "INSERT INTO t VALUES ('a;b', 'it''s; here');",
      'SELECT "odd;name" FROM t; -- trailing; comment',
      '/* one; /* nested; */ still; comment */ SELECT 1;',
      "SELECT E'esc\\'; still' AS x;",
      'CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;',
      'CREATE FUNCTION g() RETURNS int AS $body$ SELECT $1; $body$ LANGUAGE sql;',
      'SELECT 2',
    ].join('\n');
    expect(splitStatements(sql, 'x.sql')).toEqual([
      "INSERT INTO t VALUES ('a;b', 'it''s; here')",
      'SELECT "odd;name" FROM t',
      '-- trailing; comment\n/* one; /* nested; */ still; comment */ SELECT 1',
      "SELECT E'esc\\'; still' AS x",
      'CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql',
      'CREATE FUNCTION g() RETURNS int AS $body$ SELECT $1; $body$ LANGUAGE sql',
      'SELECT 2',
    ]);
  });

  it('drops pieces that hold only comments and blanks, and empty statements', () => {
    expect(splitStatements('-- header\n;;\n/* c; */\nSELECT 1;\n-- end; done\n', 'x.sql')).toEqual(['/* c; */\nSELECT 1']);
    expect(splitStatements('  \n-- nothing here\n', 'x.sql')).toEqual([]);
  });

  it('does not treat a positional parameter or a word with $ as a dollar quote', () => {
    expect(splitStatements('SELECT $1; SELECT a$b$c FROM t;', 'x.sql')).toEqual(['SELECT $1', 'SELECT a$b$c FROM t']);
  });

  it('rejects unterminated quotes and comments, naming the file and the line', () => {
    expect(() => splitStatements("SELECT 1;\nSELECT 'open;", 'a.sql')).toThrow("a.sql: unterminated string literal starting on line 2");
    expect(() => splitStatements('SELECT "x;', 'b.sql')).toThrow('b.sql: unterminated quoted identifier starting on line 1');
    expect(() => splitStatements('\n\n/* a /* b */ still open', 'c.sql')).toThrow('c.sql: unterminated /* comment starting on line 3');
    expect(() => splitStatements('SELECT $q$ x;', 'd.sql')).toThrow('d.sql: unterminated dollar-quoted body $q$ starting on line 1');
  });
});

describe('parseMigration', () => {
  it('takes version, name, sha256 of the bytes and the statements from a file', () => {
    const file = '001_create_order_facts.sql';
    const bytes = readFileSync(path.join(fixtures, 'valid', file));
    const m = parseMigration(file, bytes);
    expect(m.version).toBe('001');
    expect(m.name).toBe('create_order_facts');
    expect(m.checksum).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(m.statements).toHaveLength(2);
    expect(m.statements[0]).toMatch(/^-- Orders as the analytics job writes them[\s\S]*PRIMARY KEY \(order_id\)\n\)$/);
    expect(m.statements[1]).toMatch(/COMMENT ON TABLE analytics.order_facts IS 'orders; one row each, it''s upserted'$/);
  });

  it('rejects bad names, naming the file', () => {
    for (const bad of ['1_x.sql', '0001_x.sql', '001-x.sql', '001_X.sql', '001_.sql', 'abc_x.sql']) {
      expect(() => parseMigration(bad, Buffer.from('SELECT 1;'))).toThrow(`${bad}: a migration file must be named NNN_description.sql`);
    }
  });

  it('rejects an empty file, transaction control and more statements than one batch holds', () => {
    expect(() => parseMigration('001_x.sql', Buffer.from('-- nothing;\n'))).toThrow('001_x.sql: holds no SQL statement');
    expect(() => parseMigration('001_x.sql', Buffer.from('CREATE TABLE a (i INT);\n-- why\nCOMMIT;'))).toThrow('001_x.sql: statement 2 is transaction control (COMMIT)');
    expect(() => parseMigration('001_x.sql', Buffer.from('BEGIN;\nCREATE TABLE a (i INT);'))).toThrow('001_x.sql: statement 1 is transaction control');
    const many = Array.from({ length: MAX_STATEMENTS_PER_MIGRATION + 1 }, (_, i) => `CREATE TABLE t${i} (i INT);`).join('\n');
    expect(() => parseMigration('002_many.sql', Buffer.from(many))).toThrow(`002_many.sql: holds ${MAX_STATEMENTS_PER_MIGRATION + 1} statements; at most ${MAX_STATEMENTS_PER_MIGRATION}`);
    // A word starting with "end" or "begin" is not transaction control.
    expect(parseMigration('001_x.sql', Buffer.from('CREATE TABLE endpoints (i INT);')).statements).toHaveLength(1);
  });
});

describe('readMigrations', () => {
  it('reads the .sql files of a folder in version order and ignores other files', () => {
    const migrations = readMigrations(path.join(fixtures, 'valid'));
    expect(migrations.map((m) => [m.version, m.name, m.statements.length])).toEqual([
      ['001', 'create_order_facts', 2],
      ['002', 'create_payment_facts', 2],
    ]);
    expect(migrations[1].statements[1]).toContain('analytics."revenue;by_minute"');
  });

  it('fails on a gap, naming the file after it', () => {
    expect(() => readMigrations(path.join(fixtures, 'gap'))).toThrow('003_create_t3.sql: expected version 002 here (versions run from 001 without gaps)');
  });

  it('fails on a duplicate version, naming both files', () => {
    expect(() => readMigrations(path.join(fixtures, 'duplicate'))).toThrow('001_create_other.sql: version 001 is also used by 001_create_order_facts.sql');
  });

  it('fails on a missing or empty folder', () => {
    expect(() => readMigrations(path.join(fixtures, 'nope'))).toThrow(/migrations folder .*nope cannot be read/);
    expect(() => readMigrations(__dirname + '/fixtures')).toThrow('holds no .sql file');
  });
});

describe('the Migrations property', () => {
  const migrations = readMigrations(path.join(fixtures, 'valid'));

  it('round-trips through JSON as CloudFormation hands it over', () => {
    const asCfn: unknown = JSON.parse(JSON.stringify(migrations.map(toMigrationProperty)));
    expect(parseMigrationProperties(asCfn)).toEqual(migrations);
  });

  it('rejects bad input naming the field', () => {
    const good = toMigrationProperty(migrations[0]);
    expect(() => parseMigrationProperties('x')).toThrow('Migrations must be a list');
    expect(() => parseMigrationProperties([null])).toThrow('Migrations[0] must be an object');
    expect(() => parseMigrationProperties([{ ...good, Version: 1 }])).toThrow('Migrations[0].Version must be three digits');
    expect(() => parseMigrationProperties([{ ...good, Name: 'A b' }])).toThrow('Migrations[0].Name must be a lower-case description');
    expect(() => parseMigrationProperties([{ ...good, Checksum: 'abc' }])).toThrow('Migrations[0].Checksum must be a sha256 in hex');
    expect(() => parseMigrationProperties([{ ...good, Statements: [] }])).toThrow('Migrations[0].Statements must be 1 to 39 non-empty strings');
    expect(() => parseMigrationProperties([good, { ...good, Version: '003' }])).toThrow('expected version 002 here');
    expect(() => parseMigrationProperties([good, good])).toThrow(MigrationError);
  });
});
