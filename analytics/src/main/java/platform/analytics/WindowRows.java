package platform.analytics;

import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

/** Turns a window's aggregate into its warehouse row (bucket_start = the window's start). */
public final class WindowRows {
  private WindowRows() {}

  public static WarehouseRow revenue(WarehouseTable table, long bucketStart, String currency, RevenueAccumulator acc) {
    return new WarehouseRow(table, WarehouseRow.text(bucketStart), currency, WarehouseRow.text(acc.orders),
        WarehouseRow.text(acc.orderValue), WarehouseRow.text(acc.captured), WarehouseRow.text(acc.refunded));
  }

  public static WarehouseRow outcomes(WarehouseTable table, long bucketStart, PaymentOutcomeAccumulator acc) {
    return new WarehouseRow(table, WarehouseRow.text(bucketStart), WarehouseRow.text(acc.succeeded),
        WarehouseRow.text(acc.failed), WarehouseRow.text(PaymentOutcomeAggregate.successRate(acc.succeeded, acc.failed)));
  }

  /** Keyed by currency. */
  public static final class Revenue extends ProcessWindowFunction<RevenueAccumulator, WarehouseRow, String, TimeWindow> {
    private static final long serialVersionUID = 1L;
    private final WarehouseTable table;

    public Revenue(WarehouseTable table) {
      this.table = table;
    }

    @Override
    public void process(String currency, Context context, Iterable<RevenueAccumulator> results, Collector<WarehouseRow> out) {
      for (RevenueAccumulator acc : results) out.collect(revenue(table, context.window().getStart(), currency, acc));
    }
  }

  /** Keyed by a constant: one row per window over all payments. */
  public static final class Outcomes extends ProcessWindowFunction<PaymentOutcomeAccumulator, WarehouseRow, String, TimeWindow> {
    private static final long serialVersionUID = 1L;
    private final WarehouseTable table;

    public Outcomes(WarehouseTable table) {
      this.table = table;
    }

    @Override
    public void process(String key, Context context, Iterable<PaymentOutcomeAccumulator> results, Collector<WarehouseRow> out) {
      for (PaymentOutcomeAccumulator acc : results) out.collect(outcomes(table, context.window().getStart(), acc));
    }
  }
}
