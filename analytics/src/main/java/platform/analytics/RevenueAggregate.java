package platform.analytics;

import org.apache.flink.api.common.functions.AggregateFunction;

/**
 * Per currency and window: orders = count of order.created, order value = their totals,
 * captured/refunded = sums of payment.captured/refunded amounts. Other types do not count.
 */
public final class RevenueAggregate implements AggregateFunction<AnalyticsEvent, RevenueAccumulator, RevenueAccumulator> {
  private static final long serialVersionUID = 1L;

  /** The event types that move revenue; the job feeds only these to the windows. */
  public static boolean counts(AnalyticsEvent e) {
    return EventTypes.ORDER_CREATED.equals(e.type) || EventTypes.PAYMENT_CAPTURED.equals(e.type) || EventTypes.PAYMENT_REFUNDED.equals(e.type);
  }

  @Override
  public RevenueAccumulator createAccumulator() {
    return new RevenueAccumulator();
  }

  @Override
  public RevenueAccumulator add(AnalyticsEvent e, RevenueAccumulator acc) {
    switch (e.type) {
      case EventTypes.ORDER_CREATED:
        acc.orders++;
        acc.orderValue = acc.orderValue.add(e.amount);
        break;
      case EventTypes.PAYMENT_CAPTURED:
        acc.captured = acc.captured.add(e.amount);
        break;
      case EventTypes.PAYMENT_REFUNDED:
        acc.refunded = acc.refunded.add(e.amount);
        break;
      default:
        break;
    }
    return acc;
  }

  @Override
  public RevenueAccumulator getResult(RevenueAccumulator acc) {
    return acc;
  }

  @Override
  public RevenueAccumulator merge(RevenueAccumulator a, RevenueAccumulator b) {
    RevenueAccumulator m = new RevenueAccumulator();
    m.orders = a.orders + b.orders;
    m.orderValue = a.orderValue.add(b.orderValue);
    m.captured = a.captured.add(b.captured);
    m.refunded = a.refunded.add(b.refunded);
    return m;
  }
}
