package platform.analytics;

/** Payment outcomes in one window. */
public class PaymentOutcomeAccumulator {
  public long succeeded;
  public long failed;

  public PaymentOutcomeAccumulator() {}
}
