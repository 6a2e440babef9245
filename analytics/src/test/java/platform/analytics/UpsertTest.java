package platform.analytics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class UpsertTest {
  private static WarehouseRow outcome(String bucket, String succeeded) {
    return new WarehouseRow(WarehouseTable.PAYMENT_OUTCOMES_PER_MINUTE, bucket, succeeded, "0", "1.0000");
  }

  private static WarehouseRow revenue(String bucket, String currency, String orders) {
    return new WarehouseRow(WarehouseTable.REVENUE_PER_MINUTE, bucket, currency, orders, "1.00", "0", "0");
  }

  @Test
  void lastWriteOfAKeyWins() {
    UpsertBuffer buffer = new UpsertBuffer();
    buffer.put(outcome("60000", "1"));
    buffer.put(outcome("120000", "5"));
    buffer.put(outcome("60000", "2")); // a late firing of the first window
    assertEquals(2, buffer.size());
    List<String[]> rows = buffer.rows(WarehouseTable.PAYMENT_OUTCOMES_PER_MINUTE);
    assertEquals(2, rows.size());
    assertArrayEquals(new String[] {"60000", "2", "0", "1.0000"}, rows.get(0));
    assertArrayEquals(new String[] {"120000", "5", "0", "1.0000"}, rows.get(1));
  }

  @Test
  void compositeKeysAndTablesAreSeparate() {
    UpsertBuffer buffer = new UpsertBuffer();
    buffer.put(revenue("60000", "USD", "1"));
    buffer.put(revenue("60000", "EUR", "1"));
    buffer.put(revenue("60000", "USD", "3"));
    buffer.put(outcome("60000", "1"));
    assertEquals(3, buffer.size());
    assertEquals(List.of(WarehouseTable.REVENUE_PER_MINUTE, WarehouseTable.PAYMENT_OUTCOMES_PER_MINUTE), List.copyOf(buffer.tables()));
    assertEquals("3", buffer.rows(WarehouseTable.REVENUE_PER_MINUTE).get(0)[2]);
    buffer.clear();
    assertTrue(buffer.isEmpty());
    assertEquals(List.of(), buffer.rows(WarehouseTable.REVENUE_PER_MINUTE));
  }

  @Test
  void bufferedRowsAreCopies() {
    UpsertBuffer buffer = new UpsertBuffer();
    WarehouseRow row = outcome("60000", "1");
    buffer.put(row);
    row.values[1] = "9";
    assertEquals("1", buffer.rows(WarehouseTable.PAYMENT_OUTCOMES_PER_MINUTE).get(0)[1]);
  }

  @Test
  void rowsCheckTheirShape() {
    assertThrows(IllegalArgumentException.class, () -> new WarehouseRow(WarehouseTable.PAYMENT_OUTCOMES_PER_MINUTE, "1", "2"));
    assertThrows(IllegalArgumentException.class, () -> new WarehouseRow(WarehouseTable.PAYMENT_OUTCOMES_PER_MINUTE, null, "1", "0", null));
    assertNotEquals(revenue("60000", "USD", "1").routingKey(), revenue("60000", "EUR", "1").routingKey());
    assertEquals(revenue("60000", "USD", "1").routingKey(), revenue("60000", "USD", "7").routingKey());
  }

  @Test
  void statementsAreMultiRowDeleteThenInsert() {
    assertEquals("DELETE FROM analytics.raw_events WHERE event_id IN (?, ?)",
        UpsertStatements.delete("analytics", WarehouseTable.RAW_EVENTS, 2));
    assertEquals("DELETE FROM analytics.revenue_per_hour WHERE (bucket_start = ? AND currency = ?) OR (bucket_start = ? AND currency = ?)",
        UpsertStatements.delete("analytics", WarehouseTable.REVENUE_PER_HOUR, 2));
    assertEquals("INSERT INTO a.payment_outcomes_per_hour (bucket_start, succeeded, failed, success_rate) VALUES (?, ?, ?, ?), (?, ?, ?, ?)",
        UpsertStatements.insert("a", WarehouseTable.PAYMENT_OUTCOMES_PER_HOUR, 2));
    for (WarehouseTable t : WarehouseTable.values()) {
      int rows = UpsertStatements.chunkRows(t);
      assertTrue(rows >= 1 && rows * t.columns.size() <= UpsertStatements.MAX_PARAMETERS, t.tableName);
    }
  }
}
