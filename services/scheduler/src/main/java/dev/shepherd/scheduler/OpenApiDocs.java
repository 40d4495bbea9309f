package dev.shepherd.scheduler;

import dev.shepherd.contracts.Contracts;
import dev.shepherd.model.JobTypeView;
import dev.shepherd.model.Json;
import dev.shepherd.model.OrderingKeyView;
import dev.shepherd.model.WorkerView;
import io.swagger.v3.core.converter.ModelConverters;
import io.swagger.v3.core.util.Json31;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.ArraySchema;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.parameters.RequestBody;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The REST API's OpenAPI 3.1 document ({@code /v3/api-docs}, Swagger UI at {@code
 * /swagger-ui.html}), whose schemas are the contracts' JSON Schemas themselves, not a second copy
 * generated from the Java records: each contract becomes the component of its record's name ({@code
 * job-view} is {@code JobView}), the definitions they share the component {@code Definitions}, and
 * their references between files point into the document. The AsyncAPI document of the AMQP
 * interface is served beside it ({@code /asyncapi.yaml}).
 */
@Configuration(proxyBeanMethods = false)
class OpenApiDocs {

  private static final Pattern FILE_REF = Pattern.compile("^([a-z-]+)\\.schema\\.json(#(.*))?$");

  @Bean
  OpenApiCustomizer contractSchemas() {
    Map<String, Schema<?>> schemas = contractComponents();
    return openApi -> {
      openApi.info(
          new Info()
              .title("Shepherd scheduler API")
              .version("v1")
              .description(
                  "Submit, read, cancel and redrive jobs. The schemas are Shepherd's JSON Schema"
                      + " contracts (contracts/schemas); the AMQP interface is in /asyncapi.yaml."));
      Components components = openApi.getComponents();
      if (components == null) {
        components = new Components();
        openApi.components(components);
      }
      Map<String, Schema> merged = new LinkedHashMap<>();
      if (components.getSchemas() != null) {
        merged.putAll(components.getSchemas());
      }
      merged.putAll(schemas); // the contract wins over what was generated from a record
      for (Class<?> type : GENERATED) {
        merged.putAll(ModelConverters.getInstance(true).read(type));
      }
      // a job type's view carries a JSON Schema and the submission's own timeouts object: say so,
      // rather than describe Jackson's JsonNode and JobTimeouts records field by field
      Map<String, Schema> typeView = merged.get("JobTypeView").getProperties();
      typeView.put(
          "payloadSchema",
          new Schema<>()
              .types(java.util.Set.of("object"))
              .description("the JSON Schema (draft 2020-12) payloads are validated against"));
      typeView.put(
          "timeouts",
          new Schema<>().$ref("#/components/schemas/JobSubmission/properties/timeouts"));
      components.setSchemas(merged);
      describeOperations(openApi);
    };
  }

  /** The answers without a contract, described from their records. */
  private static final List<Class<?>> GENERATED =
      List.of(
          OrderingKeyView.class,
          WorkerView.class,
          JobTypeView.class,
          CancelController.Cancelled.class,
          DeadJobsController.Redriven.class,
          DeadJobsController.RedrivenOfType.class,
          dev.shepherd.engine.cancel.Cancellations.Batch.class);

  /**
   * What each operation takes and answers. The controllers read raw bodies (validated against the
   * contracts by the intake) and answer {@code ResponseEntity<?>}, so this table says it, in one
   * place: method, path, the request's component (or null), then status and component pairs (a
   * component ending in {@code []} is a list of it; {@code Problem} is problem+json).
   */
  private static final List<List<String>> OPERATIONS =
      List.of(
          List.of(
              "post",
              "/api/v1/jobs",
              "JobSubmission",
              "202",
              "SubmitReceipt",
              "200",
              "SubmitReceipt",
              "400",
              "Problem",
              "422",
              "Problem"),
          List.of("get", "/api/v1/jobs/{id}", "", "200", "JobView", "404", "Problem"),
          List.of("get", "/api/v1/jobs/by-key/{key}", "", "200", "JobView", "404", "Problem"),
          List.of("get", "/api/v1/jobs", "", "200", "JobSummary[]", "400", "Problem"),
          List.of(
              "post",
              "/api/v1/jobs/{id}/cancel",
              "",
              "202",
              "Cancelled",
              "404",
              "Problem",
              "409",
              "Problem"),
          List.of("post", "/api/v1/jobs/cancel", "", "200", "Batch", "400", "Problem"),
          List.of("get", "/api/v1/dead-jobs", "", "200", "DeadJob[]", "400", "Problem"),
          List.of("get", "/api/v1/dead-jobs/discarded", "", "200", "DeadJob[]", "400", "Problem"),
          List.of(
              "post",
              "/api/v1/dead-jobs/{id}/redrive",
              "",
              "202",
              "Redriven",
              "404",
              "Problem",
              "409",
              "Problem"),
          List.of("post", "/api/v1/dead-jobs/redrive", "", "200", "RedrivenOfType"),
          List.of("delete", "/api/v1/dead-jobs/{id}", "", "204", "", "404", "Problem"),
          List.of("get", "/api/v1/keys/{key}", "", "200", "OrderingKeyView"),
          List.of("get", "/api/v1/keys", "", "200", "OrderingKeyView[]", "400", "Problem"),
          List.of("get", "/api/v1/workers", "", "200", "WorkerView[]"),
          List.of("get", "/api/v1/types", "", "200", "JobTypeView[]"),
          List.of(
              "post",
              "/api/v1/attempts/{attempt}/events",
              "StatusEvent",
              "202",
              "",
              "400",
              "Problem",
              "401",
              "Problem",
              "404",
              "Problem",
              "409",
              "Problem",
              "503",
              "Problem"));

  private static void describeOperations(OpenAPI openApi) {
    for (List<String> row : OPERATIONS) {
      PathItem path = openApi.getPaths() == null ? null : openApi.getPaths().get(row.get(1));
      Operation operation =
          path == null
              ? null
              : path.readOperationsMap().get(PathItem.HttpMethod.valueOf(row.get(0).toUpperCase()));
      if (operation == null) {
        throw new IllegalStateException(
            "OpenApiDocs names " + row.get(0) + " " + row.get(1) + ", which the API does not have");
      }
      if (!row.get(2).isEmpty()) {
        operation.requestBody(
            new RequestBody()
                .required(true)
                .content(new Content().addMediaType("application/json", media(row.get(2)))));
      }
      ApiResponses responses = new ApiResponses();
      for (int i = 3; i < row.size(); i += 2) {
        String component = row.get(i + 1);
        ApiResponse response = new ApiResponse().description(describe(row.get(i)));
        if (!component.isEmpty()) {
          String type =
              component.equals("Problem") ? "application/problem+json" : "application/json";
          response.content(new Content().addMediaType(type, media(component)));
        }
        responses.addApiResponse(row.get(i), response);
      }
      operation.responses(responses);
    }
  }

  private static MediaType media(String component) {
    boolean list = component.endsWith("[]");
    Schema<?> ref = new Schema<>().$ref("#/components/schemas/" + component.replace("[]", ""));
    return new MediaType().schema(list ? new ArraySchema().items(ref) : ref);
  }

  private static String describe(String status) {
    return switch (status) {
      case "200" -> "OK";
      case "202" -> "Accepted";
      case "204" -> "No content";
      case "400" -> "Bad request: a parameter is malformed";
      case "404" -> "Not found";
      case "409" -> "Conflict: the job's state does not allow it";
      case "422" -> "Unprocessable: the body breaks the contract (errors name each field)";
      default -> status;
    };
  }

  /** Each contract schema as the component named after its record, references made internal. */
  static Map<String, Schema<?>> contractComponents() {
    Map<String, Schema<?>> components = new LinkedHashMap<>();
    for (String name : contractNames()) {
      components.put(componentName(name), readSchema(contractJson(name).toString()));
    }
    return components;
  }

  /** The contract {@code name} as its component holds it: references internal, no {@code $id}. */
  static ObjectNode contractJson(String name) {
    ObjectNode internal =
        (ObjectNode)
            internalRefs(Json.mapper().readTree(Contracts.schemaText(name)), componentName(name));
    internal.remove("$id");
    internal.remove("$schema");
    return internal;
  }

  /** Every contract the document carries, by its component's name. */
  static List<String> contractNames() {
    List<String> names = new ArrayList<>(Contracts.SCHEMAS);
    names.add(Contracts.DEFINITIONS);
    return names;
  }

  /** {@code job-view} is {@code JobView}, the record the API answers with. */
  static String componentName(String contract) {
    StringBuilder name = new StringBuilder();
    for (String part : contract.split("-")) {
      name.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
    }
    return name.toString();
  }

  /**
   * {@code definitions.schema.json#/$defs/x} becomes {@code
   * #/components/schemas/Definitions/$defs/x}.
   */
  private static JsonNode internalRefs(JsonNode node, String self) {
    if (node.isObject()) {
      ObjectNode copy = Json.mapper().createObjectNode();
      for (var field : node.properties()) {
        JsonNode value = field.getValue();
        if (field.getKey().equals("$ref") && value.isString()) {
          copy.put("$ref", internalRef(value.asString(), self));
        } else {
          copy.set(field.getKey(), internalRefs(value, self));
        }
      }
      return copy;
    }
    if (node.isArray()) {
      var copy = Json.mapper().createArrayNode();
      node.forEach(item -> copy.add(internalRefs(item, self)));
      return copy;
    }
    return node;
  }

  private static String internalRef(String ref, String self) {
    if (ref.startsWith("#")) {
      return "#/components/schemas/" + self + ref.substring(1); // within the schema (#/$defs/...)
    }
    Matcher file = FILE_REF.matcher(ref);
    if (!file.matches()) {
      throw new IllegalStateException("a contract refers to " + ref + ", outside the contracts");
    }
    String pointer = file.group(3) == null ? "" : file.group(3);
    return "#/components/schemas/" + componentName(file.group(1)) + pointer;
  }

  @SuppressWarnings("unchecked")
  private static Schema<?> readSchema(String json) {
    try {
      return Json31.mapper().readValue(json, Schema.class);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("a contract schema does not read as OpenAPI 3.1", e);
    }
  }

  /** The AMQP interface, as the contracts module ships it. */
  @RestController
  static class AsyncApiController {

    private static final org.springframework.http.MediaType YAML =
        org.springframework.http.MediaType.parseMediaType("application/yaml");

    @GetMapping("/asyncapi.yaml")
    ResponseEntity<String> asyncApi() {
      return ResponseEntity.ok().contentType(YAML).body(Contracts.asyncApiText());
    }
  }
}
