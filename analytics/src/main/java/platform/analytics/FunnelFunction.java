package platform.analytics;

import java.time.Duration;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by orderId: keeps when the order was created, paid and fulfilled and emits the order's
 * funnel row (an upsert) whenever a stage becomes known.
 */
public final class FunnelFunction extends KeyedProcessFunction<String, AnalyticsEvent, WarehouseRow> {
  private static final long serialVersionUID = 1L;

  /**
   * Choice: an order's stages are kept 30 days after its last stage arrived. Orders are normally
   * paid within minutes and fulfilled within days, so this bounds the state of abandoned orders
   * (never paid or fulfilled) and of finished ones alike. A stage arriving after that starts a
   * fresh row with only what is then known (documented in analytics/README.md).
   */
  public static final Duration STATE_TTL = Duration.ofDays(30);

  private transient ValueState<FunnelState> stages;

  @Override
  public void open(OpenContext context) {
    ValueStateDescriptor<FunnelState> descriptor = new ValueStateDescriptor<>("funnel", TypeInformation.of(FunnelState.class));
    descriptor.enableTimeToLive(StateTtlConfig.newBuilder(STATE_TTL)
        .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
        .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
        .build());
    stages = getRuntimeContext().getState(descriptor);
  }

  @Override
  public void processElement(AnalyticsEvent event, Context context, Collector<WarehouseRow> out) throws Exception {
    FunnelState state = stages.value();
    if (state == null) state = new FunnelState();
    if (!state.apply(event.type, event.occurredAt)) return;
    stages.update(state);
    out.collect(state.toRow(event.orderId));
  }
}
