package platform.analytics;

import java.math.BigDecimal;

/** Orders and money of one currency in one window; exact decimals, never floating point. */
public class RevenueAccumulator {
  public long orders;
  public BigDecimal orderValue = BigDecimal.ZERO;
  public BigDecimal captured = BigDecimal.ZERO;
  public BigDecimal refunded = BigDecimal.ZERO;

  public RevenueAccumulator() {}
}
