package dev.shepherd.distribution.kubernetes;

import dev.shepherd.distribution.TaskToken;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * The names Shepherd gives the Jobs it creates, and the labels and annotations it marks them with.
 * A Job's name is derived from the attempt alone, so a retried run finds the Job the first one
 * created: {@code shepherd-<job id>-<attempt>}, a DNS-1123 label of at most 63 characters. A job id
 * that is too long, or not lower-case letters, digits and '-', is shortened to its start and a hash
 * of the whole, so two ids never share a name.
 */
final class JobNames {

  static final String JOB_ID = "shepherd.dev/job-id";
  static final String ATTEMPT = "shepherd.dev/attempt";
  static final String TYPE = "shepherd.dev/type";
  static final String FENCING_TOKEN = "shepherd.dev/fencing-token";
  static final String PAYLOAD = "shepherd.dev/payload";
  static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  static final String SHEPHERD = "shepherd";

  /** On the pod template too: finds a Job's pods on every Kubernetes version. */
  static final String TASK = "shepherd.dev/task";

  private static final int MAX_NAME = 63;
  private static final Pattern PLAIN_ID = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern LABEL_VALUE =
      Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?");

  private JobNames() {}

  /** The Job of one attempt of one job. */
  static String jobName(String jobId, int attempt) {
    String prefix = "shepherd-";
    String suffix = "-" + attempt;
    String plain = prefix + jobId + suffix;
    if (plain.length() <= MAX_NAME && PLAIN_ID.matcher(jobId).matches()) {
      return plain;
    }
    String hash = hash(jobId, 10);
    int room = MAX_NAME - prefix.length() - 1 - hash.length() - suffix.length();
    String start = jobId.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
    start = start.substring(0, Math.min(room, start.length())).replaceAll("^-+|-+$", "");
    return prefix + (start.isEmpty() ? "" : start + "-") + hash + suffix;
  }

  /**
   * A label's value for {@code value}: itself when Kubernetes accepts it (63 characters, letters,
   * digits, '-', '_', '.'), else a hash of it. The exact value is in an annotation too.
   */
  static String labelValue(String value) {
    if (value.length() <= MAX_NAME && LABEL_VALUE.matcher(value).matches()) {
      return value;
    }
    return "h-" + hash(value, 32);
  }

  /** The token of a Job: {@code <namespace>/<name>}. */
  static TaskToken token(String namespace, String name) {
    return new TaskToken(namespace + "/" + name);
  }

  /** The namespace and name a token names. */
  record JobRef(String namespace, String name) {
    static JobRef of(TaskToken token) {
      int slash = token.value().indexOf('/');
      if (slash < 1 || slash == token.value().length() - 1) {
        throw new IllegalArgumentException(
            "a kubernetes-job token is <namespace>/<name>, was '" + token + "'");
      }
      return new JobRef(token.value().substring(0, slash), token.value().substring(slash + 1));
    }

    @Override
    public String toString() {
      return namespace + "/" + name;
    }
  }

  private static String hash(String value, int hexDigits) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest).substring(0, hexDigits);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
