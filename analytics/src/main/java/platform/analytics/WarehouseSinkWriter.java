package platform.analytics;

import java.io.IOException;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.util.Calendar;
import java.util.List;
import java.util.TimeZone;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** See {@link WarehouseSink}. Not thread-safe: Flink calls a writer from its task thread only. */
final class WarehouseSinkWriter implements SinkWriter<WarehouseRow> {
  private static final Logger LOG = LoggerFactory.getLogger(WarehouseSinkWriter.class);
  /** A failed flush is retried this often (after 1 s, 2 s, 4 s) before the job fails and restarts from its last checkpoint. */
  static final int FLUSH_ATTEMPTS = 4;
  static final long FIRST_BACKOFF_MS = 1000;

  private final JobConfig.WarehouseSettings settings;
  private final WarehouseConnections connections;
  private final UpsertBuffer buffer = new UpsertBuffer();
  private final Calendar utc = Calendar.getInstance(TimeZone.getTimeZone("UTC"));
  private final Counter rowsWritten;
  private final Counter flushRetries;
  private Connection connection;

  WarehouseSinkWriter(JobConfig.WarehouseSettings settings, WarehouseConnections connections, MetricGroup metrics) {
    this.settings = settings;
    this.connections = connections;
    this.rowsWritten = metrics.counter("warehouseRowsWritten");
    this.flushRetries = metrics.counter("warehouseFlushRetries");
  }

  @Override
  public void write(WarehouseRow row, Context context) throws IOException, InterruptedException {
    buffer.put(row);
    if (buffer.size() >= settings.batchMaxRows) flushBuffer();
  }

  @Override
  public void flush(boolean endOfInput) throws IOException, InterruptedException {
    flushBuffer();
  }

  private void flushBuffer() throws IOException, InterruptedException {
    if (buffer.isEmpty()) return;
    long backoff = FIRST_BACKOFF_MS;
    for (int attempt = 1; ; attempt++) {
      try {
        writeTransaction();
        rowsWritten.inc(buffer.size());
        buffer.clear();
        return;
      } catch (SQLException e) {
        closeConnection();
        if (attempt >= FLUSH_ATTEMPTS) {
          throw new IOException("warehouse flush of " + buffer.size() + " rows failed " + attempt + " times: " + e.getMessage(), e);
        }
        flushRetries.inc();
        LOG.warn("warehouse flush attempt {} of {} failed, retrying in {} ms: {}", attempt, FLUSH_ATTEMPTS, backoff, e.getMessage());
        Thread.sleep(backoff);
        backoff *= 2;
      }
    }
  }

  /** DELETE the buffered keys then INSERT the rows, per table, all in one transaction. */
  private void writeTransaction() throws SQLException {
    if (connection == null) connection = connections.open();
    try {
      for (WarehouseTable table : buffer.tables()) {
        List<String[]> rows = buffer.rows(table);
        int chunk = UpsertStatements.chunkRows(table);
        for (int from = 0; from < rows.size(); from += chunk) {
          List<String[]> part = rows.subList(from, Math.min(rows.size(), from + chunk));
          try (PreparedStatement delete = connection.prepareStatement(UpsertStatements.delete(settings.schema, table, part.size()))) {
            int p = 1;
            for (String[] row : part) {
              for (int c = 0; c < table.keyColumns; c++) bind(delete, p++, table.columns.get(c).sqlType, row[c]);
            }
            delete.executeUpdate();
          }
          try (PreparedStatement insert = connection.prepareStatement(UpsertStatements.insert(settings.schema, table, part.size()))) {
            int p = 1;
            for (String[] row : part) {
              for (int c = 0; c < row.length; c++) bind(insert, p++, table.columns.get(c).sqlType, row[c]);
            }
            insert.executeUpdate();
          }
        }
      }
      connection.commit();
    } catch (SQLException | RuntimeException e) {
      try {
        connection.rollback();
      } catch (SQLException rollbackError) {
        e.addSuppressed(rollbackError);
      }
      if (e instanceof RuntimeException) throw new SQLException("cannot bind a warehouse row: " + e.getMessage(), e);
      throw (SQLException) e;
    }
  }

  private void bind(PreparedStatement s, int index, int sqlType, String value) throws SQLException {
    if (value == null) {
      s.setNull(index, sqlType);
      return;
    }
    switch (sqlType) {
      case Types.VARCHAR:
        s.setString(index, value);
        break;
      case Types.INTEGER:
        s.setInt(index, Integer.parseInt(value));
        break;
      case Types.BIGINT:
        s.setLong(index, Long.parseLong(value));
        break;
      case Types.NUMERIC:
        s.setBigDecimal(index, new BigDecimal(value));
        break;
      case Types.TIMESTAMP:
        // TIMESTAMP columns hold UTC wall-clock time, whatever the JVM's zone.
        s.setTimestamp(index, new Timestamp(Long.parseLong(value)), utc);
        break;
      default:
        throw new IllegalStateException("no binding for SQL type " + sqlType);
    }
  }

  private void closeConnection() {
    if (connection == null) return;
    try {
      connection.close();
    } catch (SQLException e) {
      LOG.debug("closing the warehouse connection failed", e);
    }
    connection = null;
  }

  @Override
  public void close() {
    // Unflushed rows are not written here: Flink flushes at checkpoints and the end of input; on
    // failure they are replayed from the last checkpoint.
    closeConnection();
  }
}
