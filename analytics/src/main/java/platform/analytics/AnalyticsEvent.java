package platform.analytics;

import java.math.BigDecimal;

/**
 * One valid event from Kafka: the envelope (services/events/*.v1.schema.json), the money it carries
 * and where it was read. A Flink POJO (public fields, no-arg constructor) so no Kryo is involved.
 */
public class AnalyticsEvent {
  public String eventId;
  public String topic;
  public String type;
  public String orderId;
  /** occurredAt, epoch milliseconds (the event time). */
  public long occurredAt;
  public int schemaVersion;
  /** The payload object as compact JSON text. */
  public String payload;
  /** payload.total (order.*) or payload.amount (payment.*); null for types that carry no money. */
  public String currency;
  public BigDecimal amount;
  public int kafkaPartition;
  public long kafkaOffset;

  public AnalyticsEvent() {}

  @Override
  public String toString() {
    return type + " " + eventId + " (order " + orderId + ", " + topic + "/" + kafkaPartition + "@" + kafkaOffset + ")";
  }
}
