package dev.shepherd.scheduler;

import dev.shepherd.messaging.config.MessagingConfiguration;
import dev.shepherd.store.config.StoreConfiguration;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Import;

@SpringBootApplication
@Import({StoreConfiguration.class, MessagingConfiguration.class})
@EnableConfigurationProperties({
  SchedulerProperties.class,
  AccessProperties.class,
  CallbackProperties.class
})
public class SchedulerApplication {

  public static void main(String[] args) {
    SpringApplication.run(SchedulerApplication.class, args);
  }
}
