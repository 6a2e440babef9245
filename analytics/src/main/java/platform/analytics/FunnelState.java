package platform.analytics;

/**
 * When an order reached each funnel stage (epoch ms; null while unknown). Stages may arrive in
 * any order; a repeated stage keeps its earliest time, so the result does not depend on order.
 */
public class FunnelState {
  public Long createdAt;
  public Long paidAt;
  public Long fulfilledAt;

  public FunnelState() {}

  /** Records {@code type} at {@code time}; true when the state changed (a row is due). */
  public boolean apply(String type, long time) {
    switch (type) {
      case EventTypes.ORDER_CREATED:
        if (createdAt != null && createdAt <= time) return false;
        createdAt = time;
        return true;
      case EventTypes.ORDER_PAID:
        if (paidAt != null && paidAt <= time) return false;
        paidAt = time;
        return true;
      case EventTypes.ORDER_FULFILLED:
        if (fulfilledAt != null && fulfilledAt <= time) return false;
        fulfilledAt = time;
        return true;
      default:
        return false;
    }
  }

  public static boolean isStage(String type) {
    return EventTypes.ORDER_CREATED.equals(type) || EventTypes.ORDER_PAID.equals(type) || EventTypes.ORDER_FULFILLED.equals(type);
  }

  public boolean complete() {
    return createdAt != null && paidAt != null && fulfilledAt != null;
  }

  private static Long between(Long from, Long to) {
    return from == null || to == null ? null : to - from;
  }

  public WarehouseRow toRow(String orderId) {
    return new WarehouseRow(WarehouseTable.ORDER_FUNNEL, orderId,
        WarehouseRow.text(createdAt), WarehouseRow.text(paidAt), WarehouseRow.text(fulfilledAt),
        WarehouseRow.text(between(createdAt, paidAt)), WarehouseRow.text(between(paidAt, fulfilledAt)),
        WarehouseRow.text(between(createdAt, fulfilledAt)));
  }
}
