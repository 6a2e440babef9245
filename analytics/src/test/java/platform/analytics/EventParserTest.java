package platform.analytics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class EventParserTest {
  static final String ORDER_ID = "0b6a8f0e-3f1e-4c57-9d1a-4f0e9b7f6a01";
  static final String EVENT_ID = "5f1c2d3e-4b5a-4c6d-8e7f-901a2b3c4d5e";

  static String created(String amount, String currency) {
    return "{\"eventId\":\"" + EVENT_ID + "\",\"type\":\"order.created\",\"schemaVersion\":1,"
        + "\"occurredAt\":\"2026-01-01T10:00:05.250+01:00\",\"orderId\":\"" + ORDER_ID + "\","
        + "\"payload\":{\"userId\":\"" + ORDER_ID + "\",\"status\":\"pending\",\"total\":{\"amount\":\"" + amount + "\",\"currency\":\"" + currency + "\"},"
        + "\"items\":[{\"productId\":\"p\",\"quantity\":1,\"unitPrice\":{\"amount\":\"" + amount + "\",\"currency\":\"" + currency + "\"}}]}}";
  }

  private static ParsedRecord parse(String json) {
    return EventParser.parse("order-events", 2, 41, 1_700_000_000_000L, json == null ? null : json.getBytes(StandardCharsets.UTF_8));
  }

  private static String rejection(String json) {
    ParsedRecord r = parse(json);
    assertNull(r.event, "expected a rejection");
    assertEquals("order-events", r.rejected.topic);
    assertEquals(2, r.rejected.kafkaPartition);
    assertEquals(41, r.rejected.kafkaOffset);
    return r.rejected.reason;
  }

  @Test
  void parsesAnOrderEvent() {
    ParsedRecord r = parse(created("19.99", "USD"));
    assertNull(r.rejected);
    AnalyticsEvent e = r.event;
    assertEquals(EVENT_ID, e.eventId);
    assertEquals("order.created", e.type);
    assertEquals(ORDER_ID, e.orderId);
    assertEquals(Instant.parse("2026-01-01T09:00:05.250Z").toEpochMilli(), e.occurredAt);
    assertEquals(Instant.parse("2026-01-01T09:00:05.250Z").toEpochMilli(), r.eventTime());
    assertEquals(1, e.schemaVersion);
    assertEquals(new BigDecimal("19.99"), e.amount);
    assertEquals("USD", e.currency);
    assertEquals(2, e.kafkaPartition);
    assertEquals(41, e.kafkaOffset);
    assertTrue(e.payload.startsWith("{\"userId\":"));
  }

  @Test
  void parsesAPaymentFailureAndWholeYen() {
    String json = "{\"eventId\":\"" + EVENT_ID + "\",\"type\":\"payment.failed\",\"schemaVersion\":1,\"occurredAt\":\"2026-01-01T10:00:00Z\","
        + "\"orderId\":\"" + ORDER_ID + "\",\"payload\":{\"paymentId\":\"pay_1\",\"amount\":{\"amount\":\"3000\",\"currency\":\"JPY\"},\"failureReason\":\"card_declined\"}}";
    AnalyticsEvent e = parse(json).event;
    assertNotNull(e);
    assertEquals(new BigDecimal("3000"), e.amount);
    assertEquals("JPY", e.currency);
  }

  @Test
  void rejectsWhatItCannotUseNamingTheField() {
    assertEquals("empty record value", rejection(null));
    assertTrue(rejection("{\"eventId\":").startsWith("not valid JSON"));
    assertEquals("not a JSON object", rejection("[1,2]"));
    assertTrue(rejection("{} {}").startsWith("not valid JSON"));
    assertEquals("eventId: must be a UUID", rejection(created("1.00", "USD").replace(EVENT_ID, "evt-1")));
    assertEquals("eventId: is required", rejection(created("1.00", "USD").replace("\"eventId\"", "\"id\"")));
    assertEquals("type: unknown event type 'order.shipped'", rejection(created("1.00", "USD").replace("order.created", "order.shipped")));
    assertTrue(rejection(created("1.00", "USD").replace("\"schemaVersion\":1", "\"schemaVersion\":2")).startsWith("schemaVersion: unknown schema version 2"));
    assertTrue(rejection(created("1.00", "USD").replace("\"schemaVersion\":1", "\"schemaVersion\":\"1\"")).startsWith("schemaVersion: unknown"));
    assertEquals("occurredAt: must be an ISO 8601 date-time with a time zone",
        rejection(created("1.00", "USD").replace("2026-01-01T10:00:05.250+01:00", "2026-01-01T10:00:05")));
    assertEquals("payload.total.amount: must be a decimal string such as \"19.99\" (at most 10 integer and 2 fraction digits)",
        rejection(created("1.005", "USD")));
    assertTrue(rejection(created("-1.00", "USD")).startsWith("payload.total.amount"));
    assertTrue(rejection(created("1.00", "USD").replace("{\"amount\":\"1.00\",\"currency\":\"USD\"}", "{\"amount\":1.0,\"currency\":\"USD\"}"))
        .startsWith("payload.total.amount"));
    assertEquals("payload.total.currency: must be an ISO 4217 code such as USD", rejection(created("1.00", "usd")));
    assertEquals("payload: must be an object", rejection(created("1.00", "USD").replaceFirst("\"payload\":\\{", "\"payload\":[{").replaceAll("\\}\\]\\}\\}$", "}]}]}")));
  }

  @Test
  void rejectedValuesAreStorable() {
    byte[] value = {'{', 0, (byte) 0xff, '}'};
    RejectedEvent r = EventParser.parse("payment-events", 0, 7, null, value).rejected;
    assertEquals("{\uFFFD\uFFFD}", r.rawValue); // NUL and invalid UTF-8 replaced: PostgreSQL text cannot hold them
    assertNull(r.kafkaTimestamp);
    String big = "é".repeat(40_000); // 80,000 UTF-8 bytes
    String cut = EventParser.truncateUtf8(big, EventParser.MAX_TEXT_BYTES);
    assertEquals(32_767, cut.length());
    assertTrue(cut.getBytes(StandardCharsets.UTF_8).length <= EventParser.MAX_TEXT_BYTES);
  }
}
