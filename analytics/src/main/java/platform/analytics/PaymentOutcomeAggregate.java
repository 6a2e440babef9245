package platform.analytics;

import java.math.BigDecimal;
import java.math.RoundingMode;
import org.apache.flink.api.common.functions.AggregateFunction;

/**
 * Per window over all payment events: succeeded = payment.captured, failed = payment.failed; a
 * window with only other payment events (authorised, refunded) has no outcomes and a null rate.
 */
public final class PaymentOutcomeAggregate implements AggregateFunction<AnalyticsEvent, PaymentOutcomeAccumulator, PaymentOutcomeAccumulator> {
  private static final long serialVersionUID = 1L;
  public static final int RATE_SCALE = 4;

  /** succeeded / (succeeded + failed), scale 4, HALF_EVEN; null without outcomes. */
  public static BigDecimal successRate(long succeeded, long failed) {
    long outcomes = succeeded + failed;
    if (outcomes == 0) return null;
    return BigDecimal.valueOf(succeeded).divide(BigDecimal.valueOf(outcomes), RATE_SCALE, RoundingMode.HALF_EVEN);
  }

  @Override
  public PaymentOutcomeAccumulator createAccumulator() {
    return new PaymentOutcomeAccumulator();
  }

  @Override
  public PaymentOutcomeAccumulator add(AnalyticsEvent e, PaymentOutcomeAccumulator acc) {
    if (EventTypes.PAYMENT_CAPTURED.equals(e.type)) acc.succeeded++;
    else if (EventTypes.PAYMENT_FAILED.equals(e.type)) acc.failed++;
    return acc;
  }

  @Override
  public PaymentOutcomeAccumulator getResult(PaymentOutcomeAccumulator acc) {
    return acc;
  }

  @Override
  public PaymentOutcomeAccumulator merge(PaymentOutcomeAccumulator a, PaymentOutcomeAccumulator b) {
    PaymentOutcomeAccumulator m = new PaymentOutcomeAccumulator();
    m.succeeded = a.succeeded + b.succeeded;
    m.failed = a.failed + b.failed;
    return m;
  }
}
