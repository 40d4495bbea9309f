package dev.shepherd.contracts;

import dev.shepherd.model.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.JsonNode;

/**
 * The example files under the module's {@code examples} directory: {@code valid/<schema>/<case>}
 * and {@code invalid/<schema>/<case>}, where {@code <schema>} is a schema name such as {@code
 * job-submission} or {@code payloads/<job type>} for a payload schema.
 */
final class Examples {

  /** The module's own directory: Surefire sets {@code basedir}; an IDE usually runs in it. */
  static final Path MODULE = Path.of(System.getProperty("basedir", "."));

  static final Path ROOT = MODULE.resolve("examples");
  static final Path VALID = ROOT.resolve("valid");
  static final Path INVALID = ROOT.resolve("invalid");
  static final Path EXPECTATIONS = INVALID.resolve("expectations.json");
  static final Path RESOURCES = MODULE.resolve("src/main/resources/contracts");

  private static final String PAYLOADS = "payloads/";

  private Examples() {}

  /** One example file and the schema it is written for. */
  record Example(Path file, String schema, String key) {

    /** A job type's payload example, checked with {@link Contracts#validatePayload}. */
    boolean isPayload() {
      return schema.startsWith(PAYLOADS);
    }

    String jobType() {
      return schema.substring(PAYLOADS.length());
    }

    JsonNode json() {
      return read(file);
    }

    List<Contracts.Violation> validateWith(Contracts contracts) {
      return isPayload()
          ? contracts.validatePayload(jobType(), json())
          : contracts.validate(schema, json());
    }

    @Override
    public String toString() {
      return key;
    }
  }

  static List<Example> valid() {
    return under(VALID);
  }

  static List<Example> invalid() {
    return under(INVALID).stream().filter(e -> !e.file().equals(EXPECTATIONS)).toList();
  }

  /** {@code "<schema>/<case>.json"} to the JSON pointer the rejection must name. */
  static Map<String, String> expectations() {
    return Json.mapper().convertValue(read(EXPECTATIONS), new TypeReference<>() {});
  }

  static JsonNode read(Path file) {
    try {
      return Json.mapper().readTree(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<Example> under(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(p -> p.toString().endsWith(".json"))
          .sorted()
          .map(
              p -> {
                String key = slashes(dir.relativize(p));
                String schema = slashes(dir.relativize(p.getParent()));
                return new Example(p, schema, key);
              })
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String slashes(Path relative) {
    return relative.toString().replace('\\', '/');
  }
}
