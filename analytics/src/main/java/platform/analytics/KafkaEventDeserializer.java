package platform.analytics;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.record.TimestampType;

/** Every record becomes a {@link ParsedRecord}: an event, or a rejection that keeps its coordinates. */
public final class KafkaEventDeserializer implements KafkaRecordDeserializationSchema<ParsedRecord> {
  private static final long serialVersionUID = 1L;

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<ParsedRecord> out) {
    Long timestamp = record.timestampType() == TimestampType.NO_TIMESTAMP_TYPE || record.timestamp() < 0 ? null : record.timestamp();
    out.collect(EventParser.parse(record.topic(), record.partition(), record.offset(), timestamp, record.value()));
  }

  @Override
  public TypeInformation<ParsedRecord> getProducedType() {
    return TypeInformation.of(ParsedRecord.class);
  }
}
