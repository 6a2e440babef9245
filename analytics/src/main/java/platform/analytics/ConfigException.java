package platform.analytics;

/** A missing or invalid runtime property: the message names the property group and key. */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String group, String key, String problem) {
    super("analytics config: property group '" + group + "' key '" + key + "' " + problem);
  }
}
