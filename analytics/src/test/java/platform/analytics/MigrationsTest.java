package platform.analytics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The migrations and the sink's table definitions agree, and the SQL stays within what Redshift runs. */
class MigrationsTest {
  private static final Path DIR = Path.of("warehouse", "migrations");
  private static final Pattern TABLE = Pattern.compile("CREATE TABLE IF NOT EXISTS analytics\\.(\\w+) \\((.*?)\\n\\);", Pattern.DOTALL);
  private static final Pattern PRIMARY_KEY = Pattern.compile("PRIMARY KEY \\(([^)]*)\\)");

  private static List<Path> files() throws IOException {
    try (Stream<Path> s = Files.list(DIR)) {
      return s.sorted().toList();
    }
  }

  private static String withoutComments(String sql) {
    return sql.replaceAll("(?m)--.*$", "");
  }

  @Test
  void filesAreNumberedSql() throws IOException {
    List<Path> files = files();
    assertFalse(files.isEmpty());
    for (int i = 0; i < files.size(); i++) {
      String name = files.get(i).getFileName().toString();
      assertTrue(name.matches("\\d{3}_[a-z0-9_]+\\.sql"), name);
      assertEquals(i + 1, Integer.parseInt(name.substring(0, 3)), name + " is out of sequence");
    }
  }

  @Test
  void tablesMatchTheSinkDefinitions() throws IOException {
    Map<String, List<String>> columns = new HashMap<>();
    Map<String, List<String>> keys = new HashMap<>();
    for (Path f : files()) {
      Matcher m = TABLE.matcher(withoutComments(Files.readString(f)));
      while (m.find()) {
        List<String> cols = new ArrayList<>();
        for (String line : m.group(2).split("\n")) {
          String t = line.trim();
          if (t.isEmpty()) continue;
          Matcher pk = PRIMARY_KEY.matcher(t);
          if (pk.find()) keys.put(m.group(1), List.of(pk.group(1).split(",\\s*")));
          else cols.add(t.split("\\s+")[0]);
        }
        columns.put(m.group(1), cols);
      }
    }
    for (WarehouseTable t : WarehouseTable.values()) {
      List<String> expected = t.columns.stream().map(c -> c.name).toList();
      assertEquals(expected, columns.get(t.tableName), t.tableName + " columns");
      assertEquals(expected.subList(0, t.keyColumns), keys.get(t.tableName), t.tableName + " primary key");
    }
  }

  @Test
  void sqlRunsUnchangedOnPostgresAndRedshift() throws IOException {
    Pattern forbidden = Pattern.compile(
        "\\b(TEXT|SERIAL|BIGSERIAL|IDENTITY|JSONB?|ON CONFLICT|MERGE|NOW\\(|GETDATE|DISTKEY|SORTKEY|DISTSTYLE|CREATE USER|GRANT)\\b");
    for (Path f : files()) {
      String sql = withoutComments(Files.readString(f));
      Matcher bad = forbidden.matcher(sql.toUpperCase(Locale.ROOT));
      assertFalse(bad.find(), () -> f + ": " + bad.group());
      assertFalse(sql.contains("DEFAULT"), f + ": no column defaults");
      assertTrue(sql.matches("(?s).*\\banalytics\\..*"), f + ": the schema is literally analytics");
      // The Redshift runner splits on ';' at the end of a line: no other ';' anywhere.
      for (String line : sql.split("\n")) {
        int i = line.indexOf(';');
        assertTrue(i < 0 || i == line.stripTrailing().length() - 1, f + ": ';' inside a line: " + line);
      }
      assertTrue(sql.stripTrailing().endsWith(";"), f + ": ends with a statement terminator");
    }
  }
}
