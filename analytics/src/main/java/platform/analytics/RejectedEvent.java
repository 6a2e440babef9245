package platform.analytics;

/** A Kafka record the job could not accept, with why; stored by (topic, partition, offset). */
public class RejectedEvent {
  public String topic;
  public int kafkaPartition;
  public long kafkaOffset;
  /** The record's Kafka timestamp in epoch ms, or null when the record has none. */
  public Long kafkaTimestamp;
  public String reason;
  /** The value as UTF-8 text (invalid bytes replaced), truncated to fit the warehouse column. */
  public String rawValue;

  public RejectedEvent() {}
}
