package dev.shepherd.contracts;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** The AsyncAPI document: well-formed, complete, and every reference lands somewhere real. */
class AsyncApiTest {

  private static final Path FILE = Examples.RESOURCES.resolve("asyncapi.yaml");

  /**
   * The one queue that is not a durable quorum queue: each worker's own queue of orders, which goes
   * with the worker (see Topology.workerControlQueue).
   */
  private static final String WORKER_CONTROL_QUEUE = "shepherd.control.worker.{workerId}";

  private static JsonNode doc;

  @BeforeAll
  static void parse() throws IOException {
    doc = new YAMLMapper().readTree(Files.readString(FILE));
  }

  @Test
  void isAnAsyncApi3DocumentForAmqp() {
    assertThat(doc.path("asyncapi").asString()).isEqualTo("3.0.0");
    assertThat(doc.path("info").path("title").asString()).isNotBlank();
    assertThat(doc.path("servers").path("local").path("protocol").asString()).isEqualTo("amqp");
  }

  @Test
  void declaresEveryExchangeWithItsType() {
    assertThat(exchanges())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "shepherd.submit", "direct",
                "shepherd.work", "topic",
                "shepherd.status", "topic",
                "shepherd.control", "topic",
                "shepherd.dlx", "topic"));
  }

  @Test
  void declaresEveryQueueButTheWorkerControlQueueAsAQuorumQueueAndDeadLettersAtLeastOnce() {
    Map<String, JsonNode> queues = queues();
    assertThat(queues.keySet())
        .containsExactlyInAnyOrder(
            "shepherd.submit",
            "shepherd.cancel",
            "shepherd.work.{pool}",
            "shepherd.status.tracker",
            "shepherd.dead",
            "shepherd.dead.unrecorded",
            WORKER_CONTROL_QUEUE);
    // The worker control queue is the one exception, checked on its own below.
    queues.forEach(
        (name, arguments) -> {
          if (!name.equals(WORKER_CONTROL_QUEUE)) {
            assertThat(arguments.path("x-queue-type").asString()).as(name).isEqualTo("quorum");
            assertThat(queueBinding(name).path("durable").asBoolean()).as(name).isTrue();
            assertThat(queueBinding(name).path("autoDelete").asBoolean()).as(name).isFalse();
          }
        });
    for (String consumed :
        List.of(
            "shepherd.submit",
            "shepherd.cancel",
            "shepherd.work.{pool}",
            "shepherd.status.tracker")) {
      JsonNode arguments = queues.get(consumed);
      assertThat(arguments.path("x-delivery-limit").isInt()).as(consumed).isTrue();
      assertThat(arguments.path("x-dead-letter-exchange").asString()).isEqualTo("shepherd.dlx");
      assertThat(arguments.path("x-dead-letter-strategy").asString()).isEqualTo("at-least-once");
      assertThat(arguments.path("x-overflow").asString()).isEqualTo("reject-publish");
    }
    JsonNode dead = queues.get("shepherd.dead");
    assertThat(dead.path("x-delivery-limit").isInt()).isTrue();
    assertThat(dead.path("x-dead-letter-exchange").asString()).isEmpty();
    assertThat(dead.path("x-dead-letter-routing-key").asString())
        .isEqualTo("shepherd.dead.unrecorded");
  }

  @Test
  void workerControlQueueIsTheOneClassicAutoDeleteQueueAndIsNotDeadLettered() {
    // Deliberately not a quorum queue: it is declared by its worker and goes with it, and losing
    // an order loses nothing (the job record changed first; the lease renewal tells the worker).
    JsonNode arguments = queues().get(WORKER_CONTROL_QUEUE);
    assertThat(arguments.path("x-queue-type").asString()).isEqualTo("classic");
    assertThat(arguments.has("x-delivery-limit")).isFalse();
    assertThat(arguments.has("x-dead-letter-exchange")).isFalse();
    JsonNode queue = queueBinding(WORKER_CONTROL_QUEUE);
    assertThat(queue.path("durable").asBoolean()).isFalse();
    assertThat(queue.path("exclusive").asBoolean()).isFalse();
    assertThat(queue.path("autoDelete").asBoolean()).isTrue();
    assertThat(doc.at("/channels/workerControlQueue/parameters/workerId").isObject()).isTrue();
  }

  @Test
  void saysWhoSendsAndWhoReceivesEachMessage() {
    // A list, not a map: the control exchange carries two messages, each with its own sender.
    List<String> flows = new ArrayList<>();
    doc.path("operations")
        .forEach(
            op -> {
              JsonNode channel = resolve(op.path("channel").path("$ref").asString());
              flows.add(
                  op.path("action").asString()
                      + " "
                      + channel.path("address").asString()
                      + " "
                      + payloadSchemaOf(
                          resolve(op.path("messages").get(0).path("$ref").asString())));
            });
    assertThat(flows)
        .containsExactlyInAnyOrder(
            "send shepherd.submit schemas/job-submission.schema.json",
            "receive shepherd.submit schemas/job-submission.schema.json",
            "send shepherd.work schemas/work-message.schema.json",
            "receive shepherd.work.{pool} schemas/work-message.schema.json",
            "send shepherd.status schemas/status-event.schema.json",
            "receive shepherd.status.tracker schemas/status-event.schema.json",
            "send shepherd.control schemas/cancel-request.schema.json",
            "receive shepherd.cancel schemas/cancel-request.schema.json",
            "send shepherd.control schemas/worker-control.schema.json",
            "receive shepherd.control.worker.{workerId} schemas/worker-control.schema.json",
            "receive shepherd.dead (any body)");
  }

  @Test
  void everyOperationUsesMessagesOfItsOwnChannel() {
    doc.path("operations")
        .properties()
        .forEach(
            op -> {
              String channelRef = op.getValue().path("channel").path("$ref").asString();
              op.getValue()
                  .path("messages")
                  .forEach(
                      m ->
                          assertThat(m.path("$ref").asString())
                              .as(op.getKey())
                              .startsWith(channelRef + "/messages/"));
            });
  }

  @Test
  void everyReferenceResolvesAndOnlyToSchemaFilesContractsLoads() {
    List<String> refs = doc.findValuesAsString("$ref");
    assertThat(refs).isNotEmpty();
    List<String> files = new ArrayList<>();
    for (String ref : refs) {
      assertThat(resolve(ref).isMissingNode()).as(ref).isFalse();
      if (!ref.startsWith("#")) {
        files.add(ref.split("#", 2)[0]);
      }
    }
    List<String> loaded =
        Contracts.SCHEMAS.stream().map(name -> "schemas/" + name + ".schema.json").toList();
    assertThat(files).isNotEmpty().allSatisfy(file -> assertThat(loaded).contains(file));
  }

  private static Map<String, String> exchanges() {
    Map<String, String> out = new TreeMap<>();
    doc.path("channels")
        .forEach(
            c -> {
              JsonNode amqp = c.path("bindings").path("amqp");
              if (amqp.path("is").asString().equals("routingKey")) {
                out.put(
                    amqp.path("exchange").path("name").asString(),
                    amqp.path("exchange").path("type").asString());
                assertThat(c.path("address").asString())
                    .isEqualTo(amqp.path("exchange").path("name").asString());
              }
            });
    return out;
  }

  private static Map<String, JsonNode> queues() {
    Map<String, JsonNode> out = new TreeMap<>();
    doc.path("channels")
        .forEach(
            c -> {
              JsonNode amqp = c.path("bindings").path("amqp");
              if (amqp.path("is").asString().equals("queue")) {
                JsonNode arguments = c.path("x-queue-arguments");
                if (arguments.has("$ref")) {
                  arguments = resolve(arguments.path("$ref").asString());
                }
                out.put(amqp.path("queue").path("name").asString(), arguments);
              }
            });
    return out;
  }

  /** The AMQP binding of the queue channel named {@code name}: durable, autoDelete and so on. */
  private static JsonNode queueBinding(String name) {
    for (JsonNode c : doc.path("channels")) {
      JsonNode queue = c.path("bindings").path("amqp").path("queue");
      if (queue.path("name").asString().equals(name)) {
        return queue;
      }
    }
    throw new AssertionError("no queue channel named " + name);
  }

  private static String payloadSchemaOf(JsonNode message) {
    JsonNode payload = message.path("payload");
    return payload.has("$ref") ? payload.path("$ref").asString() : "(any body)";
  }

  /**
   * A {@code $ref}: a pointer into this document, or a file next to it with an optional pointer.
   */
  private static JsonNode resolve(String ref) {
    JsonNode target = resolveOnce(ref);
    for (int hops = 0; target.has("$ref") && hops < 10; hops++) {
      target = resolveOnce(target.path("$ref").asString());
    }
    return target;
  }

  private static JsonNode resolveOnce(String ref) {
    String[] parts = ref.split("#", 2);
    JsonNode target;
    if (parts[0].isEmpty()) {
      target = doc;
    } else {
      Path file = FILE.getParent().resolve(parts[0]);
      if (!Files.isRegularFile(file)) {
        return tools.jackson.databind.node.MissingNode.getInstance();
      }
      target = Examples.read(file);
    }
    return parts.length < 2 || parts[1].isEmpty() ? target : target.at(parts[1]);
  }
}
