package platform.analytics;

/** Rows of the raw_events and rejected_events tables. */
public final class EventRows {
  private EventRows() {}

  public static WarehouseRow raw(AnalyticsEvent e) {
    return new WarehouseRow(WarehouseTable.RAW_EVENTS, e.eventId, e.topic, e.type, e.orderId,
        WarehouseRow.text(e.occurredAt), Integer.toString(e.schemaVersion), e.payload,
        Integer.toString(e.kafkaPartition), WarehouseRow.text(e.kafkaOffset));
  }

  public static WarehouseRow rejected(RejectedEvent r) {
    return new WarehouseRow(WarehouseTable.REJECTED_EVENTS, r.topic, Integer.toString(r.kafkaPartition),
        WarehouseRow.text(r.kafkaOffset), WarehouseRow.text(r.kafkaTimestamp), r.reason, r.rawValue);
  }
}
