package dev.shepherd.contracts;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.path.NodePath;
import dev.shepherd.model.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import tools.jackson.databind.JsonNode;

/**
 * Validates messages and payloads against Shepherd's JSON Schemas (draft 2020-12). Thread-safe;
 * build one and share it.
 *
 * <pre>{@code
 * var contracts = new Contracts();
 * List<Contracts.Violation> problems = contracts.validate(Contracts.JOB_SUBMISSION, node);
 * }</pre>
 */
public final class Contracts {

  public static final String JOB_SUBMISSION = "job-submission";
  public static final String WORK_MESSAGE = "work-message";
  public static final String STATUS_EVENT = "status-event";
  public static final String JOB_VIEW = "job-view";
  public static final String JOB_SUMMARY = "job-summary";
  public static final String DEAD_JOB = "dead-job";
  public static final String SUBMIT_RECEIPT = "submit-receipt";
  public static final String PROBLEM = "problem";

  /** Every message and view schema, by name. */
  public static final List<String> SCHEMAS =
      List.of(
          JOB_SUBMISSION,
          WORK_MESSAGE,
          STATUS_EVENT,
          JOB_VIEW,
          JOB_SUMMARY,
          DEAD_JOB,
          SUBMIT_RECEIPT,
          PROBLEM);

  /** The job types that ship a payload schema. */
  public static final List<String> PAYLOAD_TYPES =
      List.of("site.generate", "demo.flaky", "demo.poison", "demo.noop");

  private static final String BASE = "https://shepherd.dev/contracts/";

  /**
   * One broken rule.
   *
   * @param field JSON pointer of the offending field ({@code /type}, {@code /payload/site}); for a
   *     missing required property, the pointer of the property that is missing; "" for the root
   * @param message the field and the rule, for people
   */
  public record Violation(String field, String message) {}

  private final Map<String, Schema> schemas = new HashMap<>();
  private final Map<String, Schema> payloadSchemas = new HashMap<>();

  public Contracts() {
    Map<String, String> sources = new HashMap<>();
    for (String name : SCHEMAS) {
      sources.put(BASE + name + ".schema.json", read("contracts/schemas/" + name + ".schema.json"));
    }
    for (String type : PAYLOAD_TYPES) {
      sources.put(
          BASE + "payloads/" + type + ".schema.json",
          read("contracts/payloads/" + type + ".schema.json"));
    }
    SchemaRegistry registry =
        SchemaRegistry.withDefaultDialect(
            SpecificationVersion.DRAFT_2020_12, builder -> builder.schemas(sources));
    for (String name : SCHEMAS) {
      schemas.put(name, registry.getSchema(SchemaLocation.of(BASE + name + ".schema.json")));
    }
    for (String type : PAYLOAD_TYPES) {
      payloadSchemas.put(
          type, registry.getSchema(SchemaLocation.of(BASE + "payloads/" + type + ".schema.json")));
    }
  }

  /** The violations of {@code node} against the named schema; empty when it conforms. */
  public List<Violation> validate(String schemaName, JsonNode node) {
    Schema schema = schemas.get(schemaName);
    if (schema == null) {
      throw new IllegalArgumentException("no schema named " + schemaName + "; known: " + SCHEMAS);
    }
    return violations(schema.validate(node));
  }

  /** The violations of a job's payload against its type's schema; empty without a schema. */
  public List<Violation> validatePayload(String jobType, JsonNode payload) {
    Schema schema = payloadSchemas.get(jobType);
    return schema == null ? List.of() : violations(schema.validate(payload));
  }

  public boolean hasPayloadSchema(String jobType) {
    return payloadSchemas.containsKey(jobType);
  }

  public Set<String> payloadTypes() {
    return new TreeSet<>(payloadSchemas.keySet());
  }

  private static List<Violation> violations(List<Error> errors) {
    List<Violation> out = new ArrayList<>();
    for (Error e : errors) {
      String field = pointer(e.getInstanceLocation());
      if ("required".equals(e.getKeyword()) && e.getProperty() != null) {
        field = field + "/" + e.getProperty();
      }
      String message = e.getMessage();
      // The validator starts messages with its own location syntax; lead with the pointer instead.
      int colon = message.indexOf(": ");
      String rule = colon >= 0 ? message.substring(colon + 2) : message;
      out.add(new Violation(field, (field.isEmpty() ? "/" : field) + ": " + rule));
    }
    return out;
  }

  private static String pointer(NodePath path) {
    StringBuilder pointer = new StringBuilder();
    for (int i = 0; i < path.getNameCount(); i++) {
      pointer
          .append('/')
          .append(String.valueOf(path.getElement(i)).replace("~", "~0").replace("/", "~1"));
    }
    return pointer.toString();
  }

  private static String read(String resource) {
    try (InputStream in = Contracts.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing contract resource " + resource);
      }
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      Json.mapper().readTree(text); // fail early, with the file's name, on a broken schema file
      return text;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
