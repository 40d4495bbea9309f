package dev.shepherd.messaging;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;

/**
 * A publisher whose connection factory has no publisher confirms or returns would wait for confirms
 * that never come: a worker built so (the SDK used outside Shepherd's services, which import the
 * setting from shepherd-defaults.yml) claimed jobs and left them RUNNING. It refuses to be built,
 * saying which setting is missing (issue 18, item 2).
 */
class ConfirmingPublisherTest {

  private static CachingConnectionFactory factory(boolean confirms, boolean returns) {
    var factory = new CachingConnectionFactory("127.0.0.1", 5672);
    if (confirms) {
      factory.setPublisherConfirmType(CachingConnectionFactory.ConfirmType.CORRELATED);
    }
    factory.setPublisherReturns(returns);
    return factory;
  }

  @Test
  void aConnectionFactoryWithoutConfirmsOrReturnsIsRefusedWithTheSettingToChange() {
    assertThatThrownBy(() -> new ConfirmingPublisher(factory(false, true), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("spring.rabbitmq.publisher-confirm-type=correlated");
    assertThatThrownBy(() -> new ConfirmingPublisher(factory(true, false), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("spring.rabbitmq.publisher-returns=true");
    var simple = factory(false, true);
    simple.setPublisherConfirmType(CachingConnectionFactory.ConfirmType.SIMPLE);
    assertThatThrownBy(() -> new ConfirmingPublisher(simple, Duration.ofSeconds(1)))
        .hasMessageContaining("correlated");
  }

  @Test
  void aConnectionFactoryWithCorrelatedConfirmsAndReturnsIsTaken() {
    assertThatCode(() -> new ConfirmingPublisher(factory(true, true), Duration.ofSeconds(1)))
        .doesNotThrowAnyException();
  }
}
