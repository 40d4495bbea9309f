package dev.shepherd.e2e;

import dev.shepherd.testsupport.ManagedProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The four services and N workers as separate processes, started from the jars under {@code
 * services/*}/target. Every process gets the same prefix, so one broker and one Redis can host a
 * cluster per test.
 */
public final class Cluster implements AutoCloseable {

  // A 2-core machine running several suites at once took more than 4 min to start a cluster.
  private static final Duration STARTUP = Duration.ofMinutes(6);

  /** The shipped JVM options ({@link JvmOptions}) with a smaller heap. */
  public static final List<String> TEST_JVM_ARGS = JvmOptions.deployment("-Xmx256m");

  private List<String> jvmArgs = TEST_JVM_ARGS;
  private Path classpathFirst;
  private boolean fastStart;

  /**
   * What to start.
   *
   * @param connection Spring properties that point at RabbitMQ and Redis
   * @param extra more properties for every service (lease TTL, demo handler timings, ...)
   */
  public record Spec(
      Path root,
      String prefix,
      Map<String, String> connection,
      int workers,
      int workerCapacity,
      Map<String, String> extra,
      Path logDir) {}

  private final Spec spec;
  private final Map<String, ManagedProcess> services = new LinkedHashMap<>();
  private final List<ManagedProcess> workers = Collections.synchronizedList(new ArrayList<>());
  private final Map<String, Integer> ports = new java.util.concurrent.ConcurrentHashMap<>();

  /** Each process's actuator port (ADR 40: not the API's), kept across restarts. */
  private final Map<String, Integer> managementPorts =
      new java.util.concurrent.ConcurrentHashMap<>();

  private int schedulerPort;
  private int nextWorker = 1;

  private Cluster(Spec spec) {
    this.spec = spec;
  }

  /** Starts every service and worker and returns once all report healthy. */
  public static Cluster start(Spec spec) {
    return start(spec, TEST_JVM_ARGS);
  }

  /** Starts the cluster with these JVM options for every process. */
  public static Cluster start(Spec spec, List<String> jvmArgs) {
    return start(spec, jvmArgs, null);
  }

  /**
   * Starts the cluster with a directory in front of every process's classpath: its files replace
   * the jars' resources of the same name (a test serves a mutated Lua script this way).
   *
   * @param classpathFirst the directory, or null for the jars as built
   */
  public static Cluster start(Spec spec, List<String> jvmArgs, Path classpathFirst) {
    return start(spec, jvmArgs, classpathFirst, jvmArgs.equals(TEST_JVM_ARGS));
  }

  /**
   * Starts the cluster with these JVM options, from extracted jars with a class-data archive
   * ({@link FastStart}) whatever the options: {@code make bench-quick}, whose figures nobody reads,
   * starts faster this way; the full benchmarks start the fat jars as shipped.
   */
  public static Cluster startFast(Spec spec, List<String> jvmArgs) {
    return start(spec, jvmArgs, null, true);
  }

  private static Cluster start(
      Spec spec, List<String> jvmArgs, Path classpathFirst, boolean fastStart) {
    var cluster = new Cluster(spec);
    cluster.jvmArgs = jvmArgs;
    cluster.classpathFirst = classpathFirst;
    cluster.fastStart = fastStart;
    try {
      Files.createDirectories(spec.logDir());
      cluster.startAll();
      return cluster;
    } catch (RuntimeException | IOException e) {
      cluster.close();
      throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
    }
  }

  /** Finds the repository root: {@code -Dshepherd.root}, else the nearest parent with services/. */
  public static Path repositoryRoot() {
    String configured = System.getProperty("shepherd.root");
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured).toAbsolutePath();
    }
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isDirectory(dir.resolve("services"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("cannot find the repository root (no services/ above cwd)");
    }
    return dir;
  }

  private void startAll() {
    List<CompletableFuture<Void>> starting = new ArrayList<>();
    starting.add(launchOnNewPorts("scheduler", "scheduler", List.of(), p -> schedulerPort = p, 3));
    starting.add(launchOnNewPorts("status-tracker", "status-tracker", List.of(), p -> {}, 3));
    starting.add(launchOnNewPorts("recovery", "recovery", List.of(), p -> {}, 3));
    for (int i = 0; i < spec.workers(); i++) {
      starting.add(startWorkerAsync());
    }
    CompletableFuture.allOf(starting.toArray(CompletableFuture[]::new)).join();
  }

  /** Starts one more worker and waits until it is healthy. */
  public ManagedProcess addWorker() {
    return addWorker(Map.of());
  }

  /** Starts one more worker with extra properties (lease TTL, pod name, ...). */
  public ManagedProcess addWorker(Map<String, String> extra) {
    startWorkerAsync(extra).join();
    return workers.get(workers.size() - 1);
  }

  /** Stops a worker (SIGTERM, then SIGKILL after the grace) and forgets it. */
  public void removeWorker(ManagedProcess worker) {
    worker.stop(Duration.ofSeconds(20));
    workers.remove(worker);
  }

  /**
   * Starts or stops workers, all at once, until {@code n} run: the newest are stopped first
   * (SIGTERM, so they drain), new ones are started with the spec's capacity and awaited healthy.
   */
  public void scaleWorkers(int n) {
    List<CompletableFuture<Void>> starting = new ArrayList<>();
    List<ManagedProcess> running = workers();
    // one thread per stop: the common pool has a single thread on a 2-core machine
    try (var stopping = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = running.size() - 1; i >= n; i--) {
        ManagedProcess worker = running.get(i);
        stopping.submit(() -> removeWorker(worker));
      }
      for (int i = running.size(); i < n; i++) {
        starting.add(startWorkerAsync());
      }
    }
    CompletableFuture.allOf(starting.toArray(CompletableFuture[]::new)).join();
  }

  /**
   * Stops a service and starts it again on the same port, so clients keep their address.
   *
   * @param name scheduler, status-tracker or recovery
   * @param crash SIGKILL when true (nothing is flushed or drained), else SIGTERM
   */
  public void restartService(String name, boolean crash) {
    ManagedProcess old = services.get(name);
    if (old == null) {
      throw new IllegalArgumentException("no service " + name + "; services: " + services.keySet());
    }
    if (crash) {
      old.kill();
    } else {
      old.stop(Duration.ofSeconds(30));
    }
    launch(name, name, ports.get(name), List.of()).join();
  }

  /**
   * SIGKILLs these services, all at once, and starts them again on their ports, all at once: a
   * restart of the whole control plane, nothing flushed or drained.
   */
  public void crashAndRestartServices(List<String> names) {
    for (String name : names) {
      ManagedProcess old = services.get(name);
      if (old == null) {
        throw new IllegalArgumentException(
            "no service " + name + "; services: " + services.keySet());
      }
      old.kill();
    }
    List<CompletableFuture<Void>> starting = new ArrayList<>();
    for (String name : names) {
      starting.add(launch(name, name, ports.get(name), List.of()));
    }
    CompletableFuture.allOf(starting.toArray(CompletableFuture[]::new)).join();
  }

  /** Stops a service with SIGTERM and leaves it stopped until {@link #startService}. */
  public void stopService(String name) {
    ManagedProcess old = services.get(name);
    if (old == null) {
      throw new IllegalArgumentException("no service " + name + "; services: " + services.keySet());
    }
    old.stop(Duration.ofSeconds(30));
  }

  /** Starts a service stopped by {@link #stopService} again, on its port, and waits for health. */
  public void startService(String name) {
    launch(name, name, ports.get(name), List.of()).join();
  }

  private static final java.net.http.HttpClient HTTP = java.net.http.HttpClient.newHttpClient();

  /**
   * Jobs succeeded so far, as counted where their outcomes were applied: by the status-tracker, and
   * by each running worker that writes its outcomes into the store itself (ADR 56). A stopped
   * worker's count leaves the sum with it; one still starting counts 0.
   */
  public double succeeded() {
    return applied("shepherd.jobs.succeeded");
  }

  /**
   * A counter of the outcomes applied ({@code shepherd.jobs.succeeded}, {@code
   * shepherd.jobs.dead}), summed over the status-tracker and every running worker, as {@link
   * #succeeded} sums its own.
   */
  public double applied(String meter) {
    double sum = metric("status-tracker", meter);
    for (ManagedProcess worker : workers()) {
      try {
        sum += metric(worker.name(), meter);
      } catch (UncheckedIOException e) {
        // a worker still starting (its actuator not listening yet) has applied nothing
      }
    }
    return sum;
  }

  /**
   * A counter or gauge of one service, from its actuator ({@code shepherd.jobs.succeeded}); 0 while
   * the meter does not exist yet.
   */
  public double metric(String service, String meter) {
    URI uri = httpUris().get(service).resolve("/actuator/metrics/" + meter);
    try {
      var response =
          HTTP.send(
              java.net.http.HttpRequest.newBuilder(uri).build(),
              java.net.http.HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() == 404) {
        return 0;
      }
      return dev.shepherd.model.Json.mapper()
          .readTree(response.body())
          .at("/measurements/0/value")
          .asDouble();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private CompletableFuture<Void> startWorkerAsync() {
    return startWorkerAsync(Map.of());
  }

  private synchronized CompletableFuture<Void> startWorkerAsync(Map<String, String> extra) {
    String name = "worker-" + nextWorker++;
    Map<String, String> props = new LinkedHashMap<>();
    props.put("shepherd.worker.id", name);
    if (!spec.extra().containsKey("shepherd.worker.capacity")) { // given twice, Spring sees "1,4"
      props.put("shepherd.worker.capacity", Integer.toString(spec.workerCapacity()));
    }
    props.putAll(extra);
    List<String> args = new ArrayList<>();
    props.forEach((k, v) -> args.add("--" + k + "=" + v));
    return launchOnNewPorts(name, "worker", args, p -> {}, 3);
  }

  /**
   * Starts a process on new ports, and again on other new ports when one was taken before the
   * process bound it (by a process of another test JVM on this machine: "Port ... was already in
   * use"); any other failure fails at once.
   *
   * @param chosen told each port chosen for the API, before the process starts on it
   */
  private CompletableFuture<Void> launchOnNewPorts(
      String name,
      String module,
      List<String> more,
      java.util.function.IntConsumer chosen,
      int tries) {
    int port = ManagedProcess.freePort();
    chosen.accept(port);
    return launch(name, module, port, more)
        .exceptionallyCompose(
            failure -> {
              if (tries <= 1 || !(portTaken(failure) || portTaken(processNamed(name)))) {
                return CompletableFuture.failedFuture(failure);
              }
              System.out.println(name + ": a port was taken before it bound; starting it again");
              workers.removeIf(process -> process.name().equals(name));
              services.remove(name);
              managementPorts.remove(name);
              return launchOnNewPorts(name, module, more, chosen, tries - 1);
            });
  }

  private ManagedProcess processNamed(String name) {
    ManagedProcess service = services.get(name);
    if (service != null) {
      return service;
    }
    synchronized (workers) {
      return workers.stream().filter(w -> w.name().equals(name)).findFirst().orElse(null);
    }
  }

  /** Whether the process's log says a port it was given was taken. */
  private static boolean portTaken(ManagedProcess process) {
    try {
      return process != null && Files.readString(process.log()).contains("was already in use");
    } catch (IOException | UncheckedIOException e) {
      return false;
    }
  }

  private static boolean portTaken(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (String.valueOf(t.getMessage()).contains("was already in use")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Where the tests read the built jars from: {@code -Dshepherd.e2e.jars}, a directory holding
   * copies of them, when set; {@code make test} copies them there so that the other modules' tests,
   * running meanwhile, may package their jars again (ADR 58).
   */
  static final String JARS_PROPERTY = "shepherd.e2e.jars";

  /**
   * The built jar {@code artifact} (e.g. {@code shepherd-scheduler}) of the module in {@code
   * moduleDir} under {@code root}: from {@code -Dshepherd.e2e.jars} when set, else the module's
   * {@code target/}.
   */
  public static Path builtJar(Path root, String moduleDir, String artifact) {
    String copies = System.getProperty(JARS_PROPERTY);
    Path dir =
        copies != null && !copies.isBlank()
            ? Path.of(copies)
            : root.resolve(moduleDir).resolve("target");
    List<Path> found = new ArrayList<>();
    if (Files.isDirectory(dir)) {
      try (var files = Files.list(dir)) {
        files.filter(f -> isBuiltJar(f.getFileName().toString(), artifact)).forEach(found::add);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    if (found.size() != 1) {
      throw new IllegalStateException(
          found.isEmpty()
              ? "missing "
                  + dir.resolve(artifact + "-<version>.jar")
                  + ": build the services first"
                  + " (make build)"
              : "expected one " + artifact + " jar in " + dir + ", found " + found);
    }
    return found.getFirst();
  }

  /**
   * Whether {@code file} is the jar a module of {@code artifact} builds, whatever its version (as
   * {@code scripts/test.sh} finds it): {@code artifact-<digit>...jar}, not a sources, javadoc,
   * plain or tests jar.
   */
  static boolean isBuiltJar(String file, String artifact) {
    return file.startsWith(artifact + "-")
        && file.endsWith(".jar")
        && file.length() > artifact.length() + 1
        && Character.isDigit(file.charAt(artifact.length() + 1))
        && !file.matches(".*-(sources|javadoc|plain|tests)\\.jar");
  }

  private CompletableFuture<Void> launch(String name, String module, int port, List<String> more) {
    Path jar = builtJar(spec.root(), "services/" + module, "shepherd-" + module);
    // the tests' own clusters start faster from extracted jars (FastStart), with no class-data
    // archive behind a mutated resource in front of the class path; the full benchmarks and the
    // soaks keep the fat jar
    return launch(name, module, jar, fastLaunch(module, jar), port, more);
  }

  /**
   * Starts a worker built outside Shepherd's services, from its own jar, on this cluster's broker,
   * Redis and prefixes, and waits until it is healthy; it stops with the cluster.
   */
  public ManagedProcess addWorkerFromJar(String name, Path jar, Map<String, String> extra) {
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("missing " + jar + ": build it first (make build)");
    }
    List<String> args = new ArrayList<>();
    args.add("--shepherd.worker.id=" + name);
    extra.forEach((k, v) -> args.add("--" + k + "=" + v));
    launch(name, "worker", jar, null, ManagedProcess.freePort(), args).join();
    return workers.get(workers.size() - 1);
  }

  /** How {@link FastStart} starts this service, or null when this cluster starts fat jars. */
  private FastStart.Launch fastLaunch(String module, Path jar) {
    if (!fastStart) {
      return null;
    }
    return classpathFirst == null
        ? FastStart.prepare(module, jar)
        : FastStart.prepareWithoutArchive(module, jar);
  }

  private CompletableFuture<Void> launch(
      String name, String module, Path jar, FastStart.Launch fast, int port, List<String> more) {
    List<String> jvm = jvmArgs;
    if (fast != null) {
      jar = fast.jar();
      jvm = new ArrayList<>(jvmArgs);
      jvm.addAll(fast.jvmArgs());
    }
    List<String> args = new ArrayList<>();
    args.add("--server.port=" + port);
    int management = managementPorts.computeIfAbsent(name, n -> ManagedProcess.freePort());
    args.add("--management.server.port=" + management);
    // one value per property: given twice on the command line, Spring would see "a,b"
    Map<String, String> props = new LinkedHashMap<>();
    props.put("shepherd.messaging.prefix", spec.prefix());
    props.put("shepherd.store.prefix", spec.prefix());
    putFor(module, spec.connection(), props);
    if (module.equals("status-tracker")) {
      // status events only from the workers' broker user (ADR 40)
      props.put(
          "shepherd.status-tracker.worker-users[0]",
          dev.shepherd.testsupport.TestApiKeys.BROKER_USER);
    }
    if (module.equals("scheduler")) {
      // the tests' administrator key (ADR 40), on every start of the scheduler
      props.putAll(dev.shepherd.testsupport.TestApiKeys.adminProperties());
    }
    putFor(module, spec.extra(), props);
    props.forEach((k, v) -> args.add("--" + k + "=" + v));
    args.addAll(more);
    ManagedProcess process =
        fast != null && classpathFirst != null
            // the extracted jar has no launcher to read loader.path: the directory goes in front
            ? ManagedProcess.startJava(
                name,
                List.of(classpathFirst, jar),
                fast.mainClass(),
                jvm,
                args,
                Map.of(),
                spec.logDir())
            : ManagedProcess.startJava(
                name, jar, classpathFirst, jvm, args, Map.of(), spec.logDir());
    if (fast != null && fast.writesArchive()) {
      FastStart.writing(module, process);
    }
    ports.put(name, port);
    if (module.equals("worker")) {
      workers.add(process);
    } else {
      services.put(name, process);
    }
    URI health = URI.create("http://127.0.0.1:" + management + "/actuator/health");
    // a thread of its own per wait: in the common pool (one thread on a 2-core machine, where
    // CompletableFuture then starts a thread per task, but several cores' worth elsewhere) the
    // waits of a cluster's processes would queue behind each other, and a caller in that pool
    // would wait for itself
    return CompletableFuture.runAsync(
        () -> process.awaitHealthy(health, STARTUP),
        command -> Thread.ofVirtual().name("health-" + name).start(command));
  }

  /**
   * A key of {@link Spec#connection} or {@link Spec#extra} that applies to one kind of process
   * only: a role's own broker or Redis user, a switch for the workers alone.
   *
   * @param module scheduler, status-tracker, recovery or worker
   */
  public static String only(String module, String property) {
    return "@" + module + ":" + property;
  }

  /** Puts the properties that apply to {@code module}: the shared ones and its {@link #only}. */
  private static void putFor(String module, Map<String, String> from, Map<String, String> into) {
    from.forEach(
        (key, value) -> {
          if (!key.startsWith("@")) {
            into.put(key, value);
          } else if (key.startsWith("@" + module + ":")) {
            into.put(key.substring(module.length() + 2), value);
          }
        });
  }

  /**
   * A client of this cluster's scheduler, with the tests' administrator key (ADR 40); add {@code
   * amqpUri} and the rest as needed.
   */
  public dev.shepherd.client.ShepherdClient.Builder client() {
    return dev.shepherd.client.ShepherdClient.builder()
        .httpBaseUri(schedulerUri())
        .apiKey(dev.shepherd.testsupport.TestApiKeys.ADMIN_KEY);
  }

  public URI schedulerUri() {
    return URI.create("http://127.0.0.1:" + schedulerPort);
  }

  /**
   * Each process's actuator base URI (probes, metrics: its management port, ADR 40), by name; the
   * scheduler's API is {@link #schedulerUri()}.
   */
  public Map<String, URI> httpUris() {
    Map<String, URI> uris = new java.util.TreeMap<>();
    managementPorts.forEach((name, port) -> uris.put(name, URI.create("http://127.0.0.1:" + port)));
    return uris;
  }

  /** The actuator base URIs of these processes (say, those running now), by name. */
  public Map<String, URI> httpUris(List<ManagedProcess> processes) {
    Map<String, URI> uris = new java.util.TreeMap<>();
    for (ManagedProcess p : processes) {
      Integer port = managementPorts.get(p.name());
      if (port != null) {
        uris.put(p.name(), URI.create("http://127.0.0.1:" + port));
      }
    }
    return uris;
  }

  public String prefix() {
    return spec.prefix();
  }

  public List<ManagedProcess> workers() {
    return List.copyOf(workers);
  }

  public ManagedProcess service(String name) {
    return services.get(name);
  }

  /** Every process, services first. */
  public List<ManagedProcess> processes() {
    List<ManagedProcess> all = new ArrayList<>(services.values());
    all.addAll(workers);
    return all;
  }

  @Override
  public void close() {
    // every process at once, each on a thread of its own: a parallel stream stopped two at a time
    // (the common pool has one thread on a 2-core machine), and each stop waits about a second
    // for its JVM's shutdown
    try (var stopping = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      for (ManagedProcess process : processes()) {
        stopping.submit(() -> process.stop(Duration.ofSeconds(10)));
      }
    }
  }
}
