package platform.analytics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * Local runs: the runtime property groups from a JSON file of the shape Managed Flink uses,
 * {"<group>": {"<key>": "<value>"}}; values are strings there, so they must be strings here.
 */
public final class ConfigFile {
  private ConfigFile() {}

  public static Map<String, Properties> read(Path file) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new IllegalArgumentException("--config " + file + ": cannot read JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) throw new IllegalArgumentException("--config " + file + ": must be a JSON object of property groups");
    Map<String, Properties> groups = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> group = it.next();
      if (!group.getValue().isObject()) {
        throw new ConfigException(group.getKey(), "*", "must be an object of string values in " + file);
      }
      Properties props = new Properties();
      for (Iterator<Map.Entry<String, JsonNode>> kv = group.getValue().fields(); kv.hasNext(); ) {
        Map.Entry<String, JsonNode> entry = kv.next();
        if (!entry.getValue().isTextual()) throw new ConfigException(group.getKey(), entry.getKey(), "must be a string in " + file);
        props.setProperty(entry.getKey(), entry.getValue().textValue());
      }
      groups.put(group.getKey(), props);
    }
    return groups;
  }
}
