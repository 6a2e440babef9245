package platform.analytics;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

/**
 * Parses one Kafka record into an {@link AnalyticsEvent}, or a {@link RejectedEvent} saying why not.
 * The checks mirror services/events/*.v1.schema.json as far as the analytics need them (envelope,
 * schema version, money); a rejected record is stored, never dropped, and never fails the job.
 */
public final class EventParser {
  /** Redshift VARCHAR lengths are bytes; 65535 is its maximum. */
  public static final int MAX_TEXT_BYTES = 65535;
  public static final int MAX_REASON_BYTES = 1024;

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
  private static final Pattern UUID = Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  /** The schemas' "decimal": at most 10 integer and 2 fraction digits, no sign. */
  private static final Pattern DECIMAL = Pattern.compile("(0|[1-9][0-9]{0,9})(\\.[0-9]{1,2})?");
  private static final Pattern CURRENCY = Pattern.compile("[A-Z]{3}");

  private EventParser() {}

  /** Why a record is rejected; the message names the field. */
  static final class Invalid extends Exception {
    private static final long serialVersionUID = 1L;

    Invalid(String message) {
      super(message, null, false, false);
    }
  }

  public static ParsedRecord parse(String topic, int partition, long offset, Long kafkaTimestamp, byte[] value) {
    try {
      return ParsedRecord.of(parseEvent(topic, partition, offset, value));
    } catch (Invalid e) {
      RejectedEvent r = new RejectedEvent();
      r.topic = topic;
      r.kafkaPartition = partition;
      r.kafkaOffset = offset;
      r.kafkaTimestamp = kafkaTimestamp;
      r.reason = truncateUtf8(withoutNul(e.getMessage()), MAX_REASON_BYTES);
      r.rawValue = value == null ? null : truncateUtf8(withoutNul(decodeLenient(value)), MAX_TEXT_BYTES);
      return ParsedRecord.of(r);
    }
  }

  static AnalyticsEvent parseEvent(String topic, int partition, long offset, byte[] value) throws Invalid {
    if (value == null || value.length == 0) throw new Invalid("empty record value");
    JsonNode root;
    try {
      root = JSON.readTree(value);
    } catch (JsonProcessingException e) {
      throw new Invalid("not valid JSON: " + e.getOriginalMessage());
    } catch (java.io.IOException e) {
      throw new Invalid("not valid JSON: " + e.getMessage());
    }
    if (root == null || !root.isObject()) throw new Invalid("not a JSON object");

    AnalyticsEvent event = new AnalyticsEvent();
    event.topic = topic;
    event.kafkaPartition = partition;
    event.kafkaOffset = offset;
    event.eventId = uuid(root, "eventId");
    event.type = text(root, "type");
    if (!EventTypes.isOrder(event.type) && !EventTypes.isPayment(event.type)) {
      throw new Invalid("type: unknown event type '" + event.type + "'");
    }
    JsonNode version = root.get("schemaVersion");
    if (version == null || version.isNull()) throw new Invalid("schemaVersion: is required");
    if (!version.isIntegralNumber() || !version.canConvertToInt() || !EventTypes.SCHEMA_VERSIONS.contains(version.intValue())) {
      throw new Invalid("schemaVersion: unknown schema version " + version + " (known: " + EventTypes.SCHEMA_VERSIONS + ")");
    }
    event.schemaVersion = version.intValue();
    event.occurredAt = instant(root, "occurredAt").toEpochMilli();
    event.orderId = uuid(root, "orderId");
    JsonNode payload = root.get("payload");
    if (payload == null || !payload.isObject()) throw new Invalid("payload: must be an object");
    try {
      event.payload = JSON.writeValueAsString(payload);
    } catch (JsonProcessingException e) {
      throw new Invalid("payload: cannot be serialised: " + e.getOriginalMessage());
    }
    if (event.payload.getBytes(StandardCharsets.UTF_8).length > MAX_TEXT_BYTES) {
      throw new Invalid("payload: larger than " + MAX_TEXT_BYTES + " bytes, the warehouse column");
    }
    // Every order event carries the order's total; every payment event its amount (the schemas).
    String moneyField = EventTypes.isOrder(event.type) ? "total" : "amount";
    JsonNode money = payload.get(moneyField);
    String where = "payload." + moneyField;
    if (money == null || !money.isObject()) throw new Invalid(where + ": must be an object {amount, currency}");
    JsonNode amount = money.get("amount");
    if (amount == null || !amount.isTextual() || !DECIMAL.matcher(amount.textValue()).matches()) {
      throw new Invalid(where + ".amount: must be a decimal string such as \"19.99\" (at most 10 integer and 2 fraction digits)");
    }
    JsonNode currency = money.get("currency");
    if (currency == null || !currency.isTextual() || !CURRENCY.matcher(currency.textValue()).matches()) {
      throw new Invalid(where + ".currency: must be an ISO 4217 code such as USD");
    }
    event.amount = new BigDecimal(amount.textValue());
    event.currency = currency.textValue();
    return event;
  }

  private static String text(JsonNode root, String field) throws Invalid {
    JsonNode node = root.get(field);
    if (node == null || node.isNull()) throw new Invalid(field + ": is required");
    if (!node.isTextual() || node.textValue().isEmpty()) throw new Invalid(field + ": must be a non-empty string");
    return node.textValue();
  }

  private static String uuid(JsonNode root, String field) throws Invalid {
    String value = text(root, field);
    if (!UUID.matcher(value).matches()) throw new Invalid(field + ": must be a UUID");
    return value.toLowerCase(java.util.Locale.ROOT);
  }

  private static Instant instant(JsonNode root, String field) throws Invalid {
    String value = text(root, field);
    try {
      // RFC 3339 (the schemas' date-time): an offset is required.
      return OffsetDateTime.parse(value, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
    } catch (DateTimeParseException e) {
      throw new Invalid(field + ": must be an ISO 8601 date-time with a time zone");
    }
  }

  /** PostgreSQL text cannot hold U+0000; a record that carries one must still be storable. */
  static String withoutNul(String text) {
    return text.indexOf('\u0000') < 0 ? text : text.replace('\u0000', '\uFFFD');
  }

  static String decodeLenient(byte[] value) {
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPLACE)
        .onUnmappableCharacter(CodingErrorAction.REPLACE);
    try {
      CharBuffer chars = decoder.decode(ByteBuffer.wrap(value));
      return chars.toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new IllegalStateException("a REPLACE decoder does not throw", e);
    }
  }

  /** Cuts {@code text} to at most {@code maxBytes} of UTF-8 without splitting a character. */
  static String truncateUtf8(String text, int maxBytes) {
    if (text == null) return null;
    if (text.length() * 3L <= maxBytes || text.getBytes(StandardCharsets.UTF_8).length <= maxBytes) return text;
    int bytes = 0;
    int i = 0;
    while (i < text.length()) {
      int cp = text.codePointAt(i);
      int len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      if (bytes + len > maxBytes) break;
      bytes += len;
      i += Character.charCount(cp);
    }
    return text.substring(0, i);
  }
}
