package platform.analytics;

import java.util.Set;

/** The event types of services/events/index.ts and the schema versions this job understands. */
public final class EventTypes {
  private EventTypes() {}

  public static final String ORDER_CREATED = "order.created";
  public static final String ORDER_PAID = "order.paid";
  public static final String ORDER_CANCELLED = "order.cancelled";
  public static final String ORDER_FULFILLED = "order.fulfilled";
  public static final String PAYMENT_AUTHORIZED = "payment.authorized";
  public static final String PAYMENT_CAPTURED = "payment.captured";
  public static final String PAYMENT_FAILED = "payment.failed";
  public static final String PAYMENT_REFUNDED = "payment.refunded";

  public static final Set<String> ORDER_TYPES = Set.of(ORDER_CREATED, ORDER_PAID, ORDER_CANCELLED, ORDER_FULFILLED);
  public static final Set<String> PAYMENT_TYPES = Set.of(PAYMENT_AUTHORIZED, PAYMENT_CAPTURED, PAYMENT_FAILED, PAYMENT_REFUNDED);
  /** services/events/*.v1.schema.json; a v2 needs its parsing here before producers may publish it. */
  public static final Set<Integer> SCHEMA_VERSIONS = Set.of(1);

  public static boolean isOrder(String type) {
    return ORDER_TYPES.contains(type);
  }

  public static boolean isPayment(String type) {
    return PAYMENT_TYPES.contains(type);
  }
}
