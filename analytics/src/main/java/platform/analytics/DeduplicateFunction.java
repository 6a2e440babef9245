package platform.analytics;

import java.time.Duration;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by eventId: passes the first event with an id and drops the rest (producers publish at
 * least once, the outbox relays may repeat). The "seen" flag expires after the retention, which
 * exceeds the topics' retention, so no replay from Kafka can bring an expired id back.
 */
public final class DeduplicateFunction extends KeyedProcessFunction<String, AnalyticsEvent, AnalyticsEvent> {
  private static final long serialVersionUID = 1L;

  private final Duration retention;
  private transient ValueState<Boolean> seen;

  public DeduplicateFunction(Duration retention) {
    this.retention = retention;
  }

  static StateTtlConfig ttl(Duration retention) {
    return StateTtlConfig.newBuilder(retention)
        .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
        .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
        .build();
  }

  @Override
  public void open(OpenContext context) {
    ValueStateDescriptor<Boolean> descriptor = new ValueStateDescriptor<>("seen", Types.BOOLEAN);
    descriptor.enableTimeToLive(ttl(retention));
    seen = getRuntimeContext().getState(descriptor);
  }

  @Override
  public void processElement(AnalyticsEvent event, Context context, Collector<AnalyticsEvent> out) throws Exception {
    if (seen.value() != null) return;
    seen.update(Boolean.TRUE);
    out.collect(event);
  }
}
