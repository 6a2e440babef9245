package platform.analytics;

/** What the Kafka deserializer emits: exactly one of {@link #event} and {@link #rejected} is set. */
public class ParsedRecord {
  public AnalyticsEvent event;
  public RejectedEvent rejected;

  public ParsedRecord() {}

  static ParsedRecord of(AnalyticsEvent event) {
    ParsedRecord r = new ParsedRecord();
    r.event = event;
    return r;
  }

  static ParsedRecord of(RejectedEvent rejected) {
    ParsedRecord r = new ParsedRecord();
    r.rejected = rejected;
    return r;
  }

  /** Event time for the watermark strategy: rejected records carry none and must not advance it. */
  public long eventTime() {
    return event != null ? event.occurredAt : Long.MIN_VALUE;
  }
}
