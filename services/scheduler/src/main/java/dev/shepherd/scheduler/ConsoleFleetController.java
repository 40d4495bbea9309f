package dev.shepherd.scheduler;

import static dev.shepherd.scheduler.ConsoleViews.html;

import dev.shepherd.messaging.Topology;
import dev.shepherd.model.WorkerView;
import dev.shepherd.scheduler.console.ConsolePages;
import dev.shepherd.scheduler.console.Viewer;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Clock;
import java.util.List;
import org.springframework.amqp.core.AmqpAdmin;
import org.springframework.amqp.core.QueueInformation;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.ResponseBody;

/**
 * The console's workers and queues (ADR 42), administrators' views: the workers as the API lists
 * them, the queues of the topology as the broker counts them.
 */
@Controller
@RequestMapping(ConsoleController.BASE)
@ResponseBody
class ConsoleFleetController {

  private static final String BASE = ConsoleController.BASE;

  private final ConsoleViews views;
  private final WorkersController workers;
  private final Topology topology;
  private final ObjectProvider<AmqpAdmin> amqpAdmin;
  private final Clock clock;

  ConsoleFleetController(
      ConsoleViews views,
      WorkersController workers,
      Topology topology,
      ObjectProvider<AmqpAdmin> amqpAdmin,
      Clock clock) {
    this.views = views;
    this.workers = workers;
    this.topology = topology;
    this.amqpAdmin = amqpAdmin;
    this.clock = clock;
  }

  /** Each queue of the topology as the broker reports it: an administrator's view. */
  @GetMapping("/queues")
  ResponseEntity<String> queues(HttpServletRequest request) {
    Viewer viewer = views.viewer(request);
    List<ConsolePages.QueueRow> rows = null;
    AmqpAdmin admin = amqpAdmin.getIfAvailable();
    if (viewer.admin()) {
      rows =
          topology.queueNames().stream()
              .sorted()
              .map(
                  name -> {
                    QueueInformation info = admin == null ? null : queueInfo(admin, name);
                    return info == null
                        ? new ConsolePages.QueueRow(name, null, null)
                        : new ConsolePages.QueueRow(
                            name, (long) info.getMessageCount(), info.getConsumerCount());
                  })
              .toList();
    }
    return html(HttpStatus.OK, ConsolePages.queues(rows, viewer));
  }

  /** The broker's count of a queue; null when it will not say (missing, or no permission). */
  private static QueueInformation queueInfo(AmqpAdmin admin, String name) {
    try {
      return admin.getQueueInfo(name);
    } catch (org.springframework.amqp.AmqpException e) {
      return null;
    }
  }

  @GetMapping("/workers")
  ResponseEntity<String> workers(HttpServletRequest request) {
    Viewer viewer = views.viewer(request);
    List<WorkerView> listed = viewer.admin() ? workers.listed() : null;
    return html(HttpStatus.OK, ConsolePages.workers(listed, clock.instant(), viewer));
  }
}
