package platform.analytics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class AggregateTest {
  private static AnalyticsEvent money(String type, String amount, String currency) {
    AnalyticsEvent e = OperatorTest.event("id", type, "o", 0);
    e.amount = new BigDecimal(amount);
    e.currency = currency;
    return e;
  }

  @Test
  void revenueSumsExactDecimalsPerType() {
    RevenueAggregate agg = new RevenueAggregate();
    RevenueAccumulator acc = agg.createAccumulator();
    for (AnalyticsEvent e : new AnalyticsEvent[] {
        money("order.created", "0.10", "USD"), money("order.created", "0.20", "USD"),
        money("payment.captured", "0.30", "USD"), money("payment.refunded", "0.1", "USD"),
        money("payment.failed", "99.99", "USD"), money("order.paid", "0.30", "USD")}) {
      acc = agg.add(e, acc);
    }
    assertEquals(2, acc.orders);
    assertEquals(new BigDecimal("0.30"), acc.orderValue); // 0.1 + 0.2 in binary floating point is not 0.3
    assertEquals(new BigDecimal("0.30"), acc.captured);
    assertEquals(0, new BigDecimal("0.10").compareTo(acc.refunded));
    RevenueAccumulator merged = agg.merge(acc, acc);
    assertEquals(4, merged.orders);
    assertEquals(new BigDecimal("0.60"), merged.orderValue);
  }

  @Test
  void onlyCreatedCapturedAndRefundedReachTheRevenueWindows() {
    assertTrue(RevenueAggregate.counts(money("order.created", "1", "USD")));
    assertTrue(RevenueAggregate.counts(money("payment.captured", "1", "USD")));
    assertTrue(RevenueAggregate.counts(money("payment.refunded", "1", "USD")));
    assertFalse(RevenueAggregate.counts(money("payment.failed", "1", "USD")));
    assertFalse(RevenueAggregate.counts(money("order.fulfilled", "1", "USD")));
  }

  @Test
  void revenueRowHasTheWindowStartAndPlainDecimals() {
    RevenueAccumulator acc = new RevenueAccumulator();
    acc.orders = 1;
    acc.orderValue = new BigDecimal("3000");
    WarehouseRow row = WindowRows.revenue(WarehouseTable.REVENUE_PER_HOUR, 1_767_261_600_000L, "JPY", acc);
    assertEquals("revenue_per_hour", row.table);
    assertArrayEquals(new String[] {"1767261600000", "JPY", "1", "3000", "0", "0"}, row.values);
  }

  @Test
  void successRateIsExactHalfEvenAndNullWithoutOutcomes() {
    assertEquals(new BigDecimal("0.6667"), PaymentOutcomeAggregate.successRate(2, 1));
    assertEquals(new BigDecimal("1.0000"), PaymentOutcomeAggregate.successRate(3, 0));
    assertEquals(new BigDecimal("0.0000"), PaymentOutcomeAggregate.successRate(0, 4));
    // 1/32 = 0.03125: half-even rounds to 0.0312 (half-up would give 0.0313).
    assertEquals(new BigDecimal("0.0312"), PaymentOutcomeAggregate.successRate(1, 31));
    // 3/32 = 0.09375 -> 0.0938 (the even neighbour).
    assertEquals(new BigDecimal("0.0938"), PaymentOutcomeAggregate.successRate(3, 29));
    assertNull(PaymentOutcomeAggregate.successRate(0, 0));
  }

  @Test
  void outcomesCountCapturedAndFailedOnly() {
    PaymentOutcomeAggregate agg = new PaymentOutcomeAggregate();
    PaymentOutcomeAccumulator acc = agg.createAccumulator();
    for (String type : new String[] {"payment.captured", "payment.failed", "payment.failed", "payment.authorized", "payment.refunded"}) {
      acc = agg.add(money(type, "1", "USD"), acc);
    }
    assertEquals(1, acc.succeeded);
    assertEquals(2, acc.failed);
    WarehouseRow row = WindowRows.outcomes(WarehouseTable.PAYMENT_OUTCOMES_PER_MINUTE, 60_000, acc);
    assertArrayEquals(new String[] {"60000", "1", "2", "0.3333"}, row.values);
    PaymentOutcomeAccumulator none = agg.add(money("payment.refunded", "1", "USD"), agg.createAccumulator());
    assertNull(WindowRows.outcomes(WarehouseTable.PAYMENT_OUTCOMES_PER_MINUTE, 0, none).values[3]);
  }
}
