package dev.shepherd.e2e.metrics;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/** One Prometheus text exposition (or several merged), as samples with labels. */
public final class Scrape {

  /** One sample: metric name, labels, value. */
  public record Sample(String name, Map<String, String> labels, double value) {}

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final List<Sample> samples;

  private Scrape(List<Sample> samples) {
    this.samples = samples;
  }

  /**
   * Scrapes every URI's {@code /actuator/prometheus}; a service that does not answer is left out.
   */
  public static Scrape of(Collection<URI> services) {
    List<Sample> all = new ArrayList<>();
    for (URI service : services) {
      try {
        var response =
            HTTP.send(
                HttpRequest.newBuilder(service.resolve("/actuator/prometheus"))
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200) {
          all.addAll(parse(response.body()).samples);
        }
      } catch (java.io.IOException e) {
        // a killed or restarting service: its series pause, as they would in Prometheus
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return new Scrape(all);
  }

  public static Scrape parse(String text) {
    List<Sample> samples = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int brace = line.indexOf('{');
      int space = line.lastIndexOf(' ');
      String name;
      Map<String, String> labels = new HashMap<>();
      if (brace >= 0 && brace < space) {
        name = line.substring(0, brace);
        String body = line.substring(brace + 1, line.lastIndexOf('}'));
        for (String pair : body.split(",(?=[a-zA-Z_]+=\")")) {
          int eq = pair.indexOf('=');
          if (eq > 0) {
            labels.put(pair.substring(0, eq), pair.substring(eq + 2, pair.length() - 1));
          }
        }
      } else {
        name = line.substring(0, space);
      }
      try {
        samples.add(new Sample(name, labels, Double.parseDouble(line.substring(space + 1))));
      } catch (NumberFormatException e) {
        // NaN written oddly or a comment we do not know: not a sample
      }
    }
    return new Scrape(samples);
  }

  public double sum(String name) {
    return sum(name, labels -> true);
  }

  public double sum(String name, Predicate<Map<String, String>> filter) {
    return samples.stream()
        .filter(s -> s.name().equals(name) && filter.test(s.labels()) && !Double.isNaN(s.value()))
        .mapToDouble(Sample::value)
        .sum();
  }

  /** Summed per value of one label. */
  public Map<String, Double> sumBy(String name, String label) {
    Map<String, Double> out = new TreeMap<>();
    for (Sample s : samples) {
      if (s.name().equals(name) && s.labels().containsKey(label) && !Double.isNaN(s.value())) {
        out.merge(s.labels().get(label), s.value(), Double::sum);
      }
    }
    return out;
  }

  /** Cumulative histogram buckets of a timer, summed over its other labels: le to count. */
  public TreeMap<Double, Double> buckets(String histogram) {
    TreeMap<Double, Double> out = new TreeMap<>();
    for (Sample s : samples) {
      if (s.name().equals(histogram + "_bucket")) {
        String le = s.labels().get("le");
        double bound = "+Inf".equals(le) ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
        out.merge(bound, s.value(), Double::sum);
      }
    }
    return out;
  }

  /**
   * The q-quantile of the observations between two scrapes of the same histogram, as Prometheus's
   * histogram_quantile computes it (linear within the bucket). NaN without observations.
   */
  public static double quantile(
      double q, TreeMap<Double, Double> before, TreeMap<Double, Double> after) {
    TreeMap<Double, Double> delta = new TreeMap<>();
    after.forEach((le, count) -> delta.put(le, count - before.getOrDefault(le, 0.0)));
    if (delta.isEmpty()) {
      return Double.NaN;
    }
    double total = delta.lastEntry().getValue();
    if (total <= 0) {
      return Double.NaN;
    }
    double rank = q * total;
    double lowerBound = 0;
    double lowerCount = 0;
    for (var bucket : delta.entrySet()) {
      if (bucket.getValue() >= rank) {
        if (bucket.getKey().isInfinite()) {
          return lowerBound;
        }
        double inBucket = bucket.getValue() - lowerCount;
        return inBucket <= 0
            ? bucket.getKey()
            : lowerBound + (bucket.getKey() - lowerBound) * (rank - lowerCount) / inBucket;
      }
      lowerBound = bucket.getKey();
      lowerCount = bucket.getValue();
    }
    return lowerBound;
  }
}
