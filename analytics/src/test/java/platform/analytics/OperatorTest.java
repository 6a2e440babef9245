package platform.analytics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** The keyed functions on Flink's operator test harness (real keyed state, no cluster). */
class OperatorTest {
  static AnalyticsEvent event(String id, String type, String orderId, long time) {
    AnalyticsEvent e = new AnalyticsEvent();
    e.eventId = id;
    e.type = type;
    e.orderId = orderId;
    e.occurredAt = time;
    e.topic = "order-events";
    e.payload = "{}";
    e.currency = "USD";
    e.amount = new BigDecimal("1.00");
    return e;
  }

  @Test
  void passesTheFirstEventOfEachIdOnly() throws Exception {
    try (KeyedOneInputStreamOperatorTestHarness<String, AnalyticsEvent, AnalyticsEvent> h = new KeyedOneInputStreamOperatorTestHarness<>(
        new KeyedProcessOperator<>(new DeduplicateFunction(Duration.ofHours(192))), e -> e.eventId, Types.STRING)) {
      h.open();
      h.processElement(event("a", "order.created", "o1", 1000), 1000);
      h.processElement(event("b", "order.paid", "o1", 2000), 2000);
      h.processElement(event("a", "order.created", "o1", 1000), 1000);
      h.processElement(event("b", "order.paid", "o1", 2000), 2000);
      h.processElement(event("c", "order.fulfilled", "o1", 3000), 3000);
      assertEquals(List.of("a", "b", "c"), h.extractOutputValues().stream().map(e -> e.eventId).toList());
    }
  }

  @Test
  void dedupStateExpiresAfterTheRetention() throws Exception {
    assertEquals(Duration.ofHours(192).toMillis(), DeduplicateFunction.ttl(Duration.ofHours(192)).getTimeToLive().toMillis());
  }

  private static KeyedOneInputStreamOperatorTestHarness<String, AnalyticsEvent, WarehouseRow> funnelHarness() throws Exception {
    KeyedOneInputStreamOperatorTestHarness<String, AnalyticsEvent, WarehouseRow> h = new KeyedOneInputStreamOperatorTestHarness<>(
        new KeyedProcessOperator<>(new FunnelFunction()), e -> e.orderId, Types.STRING);
    h.open();
    return h;
  }

  @Test
  void funnelEmitsARowWheneverAStageBecomesKnownInAnyArrivalOrder() throws Exception {
    try (var h = funnelHarness()) {
      h.processElement(event("p", "order.paid", "o1", 61_000), 61_000); // paid before created
      h.processElement(event("c", "order.created", "o1", 1_000), 1_000);
      h.processElement(event("x", "order.cancelled", "o2", 5_000), 5_000); // not a stage: no row
      h.processElement(event("f", "order.fulfilled", "o1", 3_601_000), 3_601_000);
      h.processElement(event("p2", "order.paid", "o1", 90_000), 90_000); // a later repeat changes nothing
      List<WarehouseRow> rows = h.extractOutputValues();
      assertEquals(3, rows.size());
      assertArrayEquals(new String[] {"o1", null, "61000", null, null, null, null}, rows.get(0).values);
      assertArrayEquals(new String[] {"o1", "1000", "61000", null, "60000", null, null}, rows.get(1).values);
      assertArrayEquals(new String[] {"o1", "1000", "61000", "3601000", "60000", "3540000", "3600000"}, rows.get(2).values);
      assertEquals("order_funnel", rows.get(2).table);
    }
  }

  @Test
  void anEarlierRepeatOfAStageMovesItBack() throws Exception {
    try (var h = funnelHarness()) {
      h.processElement(event("c2", "order.created", "o1", 5_000), 5_000);
      h.processElement(event("c1", "order.created", "o1", 2_000), 2_000);
      List<WarehouseRow> rows = h.extractOutputValues();
      assertEquals(2, rows.size());
      assertEquals("2000", rows.get(1).values[1]);
    }
  }

  @Test
  void funnelStateSurvivesASnapshotAndRestore() throws Exception {
    var snapshot = funnelSnapshot();
    try (KeyedOneInputStreamOperatorTestHarness<String, AnalyticsEvent, WarehouseRow> h = new KeyedOneInputStreamOperatorTestHarness<>(
        new KeyedProcessOperator<>(new FunnelFunction()), e -> e.orderId, Types.STRING)) {
      h.initializeState(snapshot);
      h.open();
      h.processElement(event("p", "order.paid", "o1", 11_000), 11_000);
      assertArrayEquals(new String[] {"o1", "1000", "11000", null, "10000", null, null}, h.extractOutputValues().get(0).values);
    }
  }

  private static org.apache.flink.runtime.checkpoint.OperatorSubtaskState funnelSnapshot() throws Exception {
    try (var h = funnelHarness()) {
      h.processElement(event("c", "order.created", "o1", 1_000), 1_000);
      return h.snapshot(1, 1);
    }
  }
}
