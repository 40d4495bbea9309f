package dev.shepherd.engine.access;

import dev.shepherd.model.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The API keys and grants in force: those of the configuration plus those of an optional policy
 * file (YAML, a Kubernetes Secret mounted as a file, say). The file is read again when it changes,
 * so grants change without a restart; a file that no longer reads keeps the last good policy and
 * says so in the log. A wrong configuration or file at start-up fails the start with its reason.
 */
public final class PolicySource {

  private static final Logger log = LoggerFactory.getLogger(PolicySource.class);

  /** The keys, the grants and the broker users of one moment. */
  public record Snapshot(ApiKeys keys, AccessPolicy policy, Map<String, Caller> brokerUsers) {

    /**
     * The caller a submission's broker-validated {@code user_id} names: as the policy lists it, or
     * a caller of no tenant and no groups (only grants naming it by name apply).
     */
    public Caller brokerUser(String userId) {
      Caller listed = brokerUsers.get(userId);
      return listed != null ? listed : new Caller(userId, Caller.NO_TENANT, java.util.Set.of());
    }
  }

  private final PolicyDocument configured;
  private final Path file;
  private volatile Snapshot current;
  private volatile FileTime fileTime;

  /**
   * @param file the policy file, or null for none
   */
  public PolicySource(PolicyDocument configured, Path file) {
    this.configured = configured;
    this.file = file;
    this.fileTime = modified();
    this.current = load();
  }

  public Snapshot current() {
    return current;
  }

  /**
   * Reads the file again if it changed since it was last read; returns whether the policy changed.
   */
  public boolean refresh() {
    if (file == null) {
      return false;
    }
    FileTime seen = modified();
    if (seen == null || seen.equals(fileTime)) {
      return false;
    }
    try {
      current = load();
      fileTime = seen;
      log.info("access policy reloaded from {}", file);
      return true;
    } catch (RuntimeException e) {
      fileTime = seen;
      log.error(
          "access policy file {} not applied, the last good policy stays: {}",
          file,
          e.getMessage());
      return false;
    }
  }

  private Snapshot load() {
    PolicyDocument document = file == null ? configured : configured.and(read(file));
    return new Snapshot(document.keys(), document.policy(), document.brokerUsers());
  }

  private FileTime modified() {
    try {
      return file == null ? null : Files.getLastModifiedTime(file);
    } catch (IOException e) {
      return null;
    }
  }

  /** A policy file's document; a clear error for one that cannot be read. */
  static PolicyDocument read(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read the access policy file " + file + ": " + e, e);
    }
    Object tree;
    try {
      tree = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "access policy file " + file + " is not YAML: " + e.getMessage(), e);
    }
    if (tree == null) {
      return PolicyDocument.EMPTY;
    }
    if (!(tree instanceof Map<?, ?>)) {
      throw new IllegalArgumentException(
          "access policy file " + file + " must hold a map of apiKeys and grants");
    }
    try {
      return Json.mapper().convertValue(tree, PolicyDocument.class);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("access policy file " + file + ": " + e.getMessage(), e);
    }
  }
}
