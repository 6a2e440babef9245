package platform.analytics;

import com.amazonaws.services.kinesisanalytics.runtime.KinesisAnalyticsRuntime;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/**
 * The spec's Analytics Service: order and payment events from Kafka, de-duplicated, aggregated in
 * event time and upserted into the warehouse (analytics/README.md).
 *
 * <p>On Managed Flink it runs without arguments and reads the runtime property groups; locally,
 * {@code --config <file.json>} gives the same groups and the job runs on a MiniCluster.
 */
public final class AnalyticsJob {
  public static final String JOB_NAME = "platform-analytics";
  static final OutputTag<RejectedEvent> REJECTED = new OutputTag<>("rejected-events", TypeInformation.of(RejectedEvent.class));
  /** The single key of the all-payments windows. */
  private static final String ALL = "all";

  private AnalyticsJob() {}

  public static void main(String[] args) throws Exception {
    boolean local = args.length > 0;
    JobConfig config;
    try {
      Map<String, Properties> groups;
      if (!local) {
        groups = KinesisAnalyticsRuntime.getApplicationProperties();
      } else if (args.length == 2 && args[0].equals("--config")) {
        groups = ConfigFile.read(Path.of(args[1]));
      } else {
        throw new IllegalArgumentException("usage: AnalyticsJob [--config <file.json>] (no arguments on Managed Flink)");
      }
      config = JobConfig.from(groups);
    } catch (IllegalArgumentException | ConfigException e) {
      if (!local) throw e; // Managed Flink shows the exception as the application's failure
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }

    StreamExecutionEnvironment env;
    if (local) {
      Configuration conf = new Configuration();
      // A local run must end: a failing sink fails the run after a couple of restarts instead
      // of restarting forever (Managed Flink keeps its own restart strategy).
      conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
      conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 2);
      conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(1));
      env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
      // Managed Flink owns checkpointing and rejects programmatic changes of it (Flink 2.2
      // runtime), so only a local run sets the interval.
      if (config.localCheckpointIntervalMs.isPresent()) env.enableCheckpointing(config.localCheckpointIntervalMs.getAsLong());
    } else {
      env = StreamExecutionEnvironment.getExecutionEnvironment();
    }
    build(env, config);
    env.execute(JOB_NAME);
  }

  static KafkaSource<ParsedRecord> source(JobConfig config) {
    Properties consumer = new Properties();
    consumer.putAll(config.consumerProperties);
    KafkaSourceBuilder<ParsedRecord> builder = KafkaSource.<ParsedRecord>builder()
        .setProperties(consumer)
        .setTopics(config.topics)
        .setGroupId(config.groupId)
        // Resume from the group's committed offsets (committed on checkpoints); a new group reads everything.
        .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
        .setDeserializer(new KafkaEventDeserializer());
    if (config.bounded) builder.setBounded(OffsetsInitializer.latest());
    return builder.build();
  }

  /** The whole pipeline, from the Kafka source to the warehouse sink. */
  static void build(StreamExecutionEnvironment env, JobConfig config) {
    WatermarkStrategy<ParsedRecord> watermarks = WatermarkStrategy
        .<ParsedRecord>forBoundedOutOfOrderness(config.maxOutOfOrderness)
        .withIdleness(config.idleTimeout)
        .withTimestampAssigner((record, kafkaTimestamp) -> record.eventTime());

    SingleOutputStreamOperator<AnalyticsEvent> events = env
        .fromSource(source(config), watermarks, "kafka-events").uid("kafka-events")
        .process(new ProcessFunction<ParsedRecord, AnalyticsEvent>() {
          private static final long serialVersionUID = 1L;

          @Override
          public void processElement(ParsedRecord record, Context context, Collector<AnalyticsEvent> out) {
            if (record.event != null) out.collect(record.event);
            else context.output(REJECTED, record.rejected);
          }
        })
        .uid("split-rejected").name("split-rejected");

    DataStream<AnalyticsEvent> unique = events
        .keyBy(e -> e.eventId)
        .process(new DeduplicateFunction(config.dedupRetention))
        .uid("deduplicate").name("deduplicate-by-event-id");

    DataStream<WarehouseRow> raw = unique.map(EventRows::raw).uid("raw-rows").name("raw-rows");
    DataStream<WarehouseRow> rejected = events.getSideOutput(REJECTED).map(EventRows::rejected).uid("rejected-rows").name("rejected-rows");

    DataStream<AnalyticsEvent> revenueEvents = unique.filter(RevenueAggregate::counts).uid("revenue-events").name("revenue-events");
    DataStream<WarehouseRow> revenueMinute = revenue(revenueEvents, Duration.ofMinutes(1), config, WarehouseTable.REVENUE_PER_MINUTE);
    DataStream<WarehouseRow> revenueHour = revenue(revenueEvents, Duration.ofHours(1), config, WarehouseTable.REVENUE_PER_HOUR);

    DataStream<AnalyticsEvent> paymentEvents = unique.filter(e -> EventTypes.isPayment(e.type)).uid("payment-events").name("payment-events");
    DataStream<WarehouseRow> outcomesMinute = outcomes(paymentEvents, Duration.ofMinutes(1), config, WarehouseTable.PAYMENT_OUTCOMES_PER_MINUTE);
    DataStream<WarehouseRow> outcomesHour = outcomes(paymentEvents, Duration.ofHours(1), config, WarehouseTable.PAYMENT_OUTCOMES_PER_HOUR);

    DataStream<WarehouseRow> funnel = unique
        .filter(e -> FunnelState.isStage(e.type)).uid("funnel-events").name("funnel-events")
        .keyBy(e -> e.orderId)
        .process(new FunnelFunction())
        .uid("order-funnel").name("order-funnel");

    raw.union(rejected, revenueMinute, revenueHour, outcomesMinute, outcomesHour, funnel)
        // One writer per primary key: its upserts reach the warehouse in the order they were made.
        .keyBy(WarehouseRow::routingKey)
        .sinkTo(new WarehouseSink(config.warehouse))
        .uid("warehouse-sink").name("warehouse-upsert-sink");
  }

  private static DataStream<WarehouseRow> revenue(DataStream<AnalyticsEvent> events, Duration size, JobConfig config, WarehouseTable table) {
    return events
        .keyBy(e -> e.currency)
        .window(TumblingEventTimeWindows.of(size))
        .allowedLateness(config.allowedLateness)
        .aggregate(new RevenueAggregate(), new WindowRows.Revenue(table))
        .uid(table.tableName).name(table.tableName);
  }

  private static DataStream<WarehouseRow> outcomes(DataStream<AnalyticsEvent> events, Duration size, JobConfig config, WarehouseTable table) {
    return events
        .keyBy(e -> ALL)
        .window(TumblingEventTimeWindows.of(size))
        .allowedLateness(config.allowedLateness)
        .aggregate(new PaymentOutcomeAggregate(), new WindowRows.Outcomes(table))
        .uid(table.tableName).name(table.tableName);
  }
}
