package platform.analytics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.util.Properties;
import java.util.ServiceLoader;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.secretsmanager.model.GetSecretValueRequest;

/**
 * Opens JDBC connections to the warehouse. The password is either given (tests) or read from
 * Secrets Manager on every new connection, so a rotated secret is picked up on the next reconnect.
 */
final class WarehouseConnections {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final JobConfig.WarehouseSettings settings;
  private final Driver driver;

  WarehouseConnections(JobConfig.WarehouseSettings settings) {
    this.settings = settings;
    this.driver = findDriver(settings.jdbcUrl);
  }

  /**
   * The driver by URL, through the job jar's own class loader: DriverManager only trusts drivers
   * visible to the caller's loader, which on a Flink cluster is not the user-code loader.
   */
  private static Driver findDriver(String url) {
    for (Driver d : ServiceLoader.load(Driver.class, WarehouseConnections.class.getClassLoader())) {
      try {
        if (d.acceptsURL(url)) return d;
      } catch (SQLException e) {
        // a driver that cannot judge the URL is not the one
      }
    }
    throw new ConfigException(JobConfig.WAREHOUSE, "jdbc.url", "has no JDBC driver in the job (jdbc:postgresql: and jdbc:redshift: are bundled)");
  }

  Connection open() throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", settings.user);
    props.setProperty("password", settings.password != null ? settings.password : secretPassword());
    Connection c = driver.connect(settings.jdbcUrl, props);
    if (c == null) throw new SQLException("the JDBC driver refused the URL " + settings.jdbcUrl);
    c.setAutoCommit(false);
    return c;
  }

  private String secretPassword() throws SQLException {
    String arn = settings.passwordSecretArn;
    // arn:aws:secretsmanager:<region>:<account>:secret:<name>: the secret's own region, whatever the job's.
    Region region = Region.of(arn.split(":", 6)[3]);
    try (SecretsManagerClient client = SecretsManagerClient.builder()
        .region(region)
        .httpClientBuilder(Apache5HttpClient.builder())
        .build()) {
      String secret = client.getSecretValue(GetSecretValueRequest.builder().secretId(arn).build()).secretString();
      JsonNode password = secret == null ? null : JSON.readTree(secret).get("password");
      if (password == null || !password.isTextual() || password.textValue().isEmpty()) {
        throw new SQLException("warehouse password secret " + arn + " has no \"password\" string in its JSON");
      }
      return password.textValue();
    } catch (SQLException e) {
      throw e;
    } catch (Exception e) {
      throw new SQLException("cannot read the warehouse password secret " + arn + ": " + e.getMessage(), e);
    }
  }
}
