package platform.analytics;

import java.io.IOException;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * The warehouse upsert sink (Sink V2): each writer buffers rows by primary key and, on every
 * checkpoint, at the end of input and when the buffer is full, deletes and re-inserts them in one
 * JDBC transaction. At-least-once delivery (rows since the last checkpoint are replayed after a
 * failure) plus idempotent upserts make the warehouse effectively exactly-once (analytics/README.md).
 * The input must be partitioned by {@link WarehouseRow#routingKey()} so that one writer owns a key.
 */
public final class WarehouseSink implements Sink<WarehouseRow> {
  private static final long serialVersionUID = 1L;

  private final JobConfig.WarehouseSettings settings;

  public WarehouseSink(JobConfig.WarehouseSettings settings) {
    this.settings = settings;
  }

  @Override
  public SinkWriter<WarehouseRow> createWriter(WriterInitContext context) throws IOException {
    return new WarehouseSinkWriter(settings, new WarehouseConnections(settings), context.metricGroup());
  }
}
