package dev.shepherd.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shepherd.model.Json;
import dev.shepherd.model.WorkMessage;
import java.util.List;
import org.junit.jupiter.api.Test;

class HandlersTest {

  record Greeting(String name) {}

  private static JobHandler<Greeting> greeter(String type) {
    return new JobHandler<>() {
      @Override
      public String type() {
        return type;
      }

      @Override
      public Class<Greeting> payloadType() {
        return Greeting.class;
      }

      @Override
      public void handle(JobContext<Greeting> context) {}
    };
  }

  private static WorkMessage work(String type, String payload) {
    return new WorkMessage("00-a", type, 1, Json.mapper().readTree(payload), null);
  }

  @Test
  void aWorkMessageBindsToItsHandlerAndPayload() {
    var greet = greeter("greet");

    var binding = new Handlers(List.of(greet)).bind(work("greet", "{\"name\":\"ada\"}"));

    assertThat(binding).isInstanceOf(Handlers.Bound.class);
    assertThat(((Handlers.Bound<?>) binding).handler()).isSameAs(greet);
    assertThat(((Handlers.Bound<?>) binding).payload()).isEqualTo(new Greeting("ada"));
  }

  @Test
  void aTypeWithoutAHandlerIsMissingAndAPayloadThatDoesNotFitIsUnbound() {
    var handlers = new Handlers(List.of(greeter("greet")));

    assertThat(handlers.bind(work("other", "{}"))).isEqualTo(new Handlers.Missing("other"));
    assertThat(handlers.bind(work("greet", "{\"colour\":\"red\"}")))
        .isInstanceOfSatisfying(
            Handlers.Unbound.class, u -> assertThat(u.problem()).contains("colour"));
    assertThat(handlers.has("greet")).isTrue();
    assertThat(handlers.types()).containsExactly("greet");
  }

  @Test
  void twoHandlersOfOneTypeAreRefused() {
    assertThatThrownBy(() -> new Handlers(List.of(greeter("greet"), greeter("greet"))))
        .hasMessageContaining("two handlers for job type greet");
  }

  @Test
  void aHandlerWithoutATypeIsRefused() {
    assertThatThrownBy(() -> new Handlers(List.of(greeter(" "))))
        .hasMessageContaining("needs a type and a payload type");
  }
}
