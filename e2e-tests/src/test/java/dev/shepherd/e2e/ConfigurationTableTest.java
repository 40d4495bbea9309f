package dev.shepherd.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.convert.DurationStyle;

/**
 * The README's Configuration table and the code agree: every {@code shepherd.*} property a
 * {@code @ConfigurationProperties} record of libs/ or services/ binds has a row, every {@code
 * shepherd.*} row names a property the code binds, and a default the README states as one value is
 * the default the record's constructor gives.
 *
 * <p>The records are found in the compiled classes of every module (the services are Spring Boot
 * jars, so no module can depend on them): a class whose bytes name {@code ConfigurationProperties}
 * is loaded and kept when it carries the annotation. A record component is one property ({@code
 * prefix} + its kebab-case name); a nested record's components are properties under it; a map is
 * one property whose README rows add a placeholder ({@code shepherd.messaging.pools.<pool>}). The
 * defaults are read by calling the canonical constructor with every argument null, as Spring does
 * when nothing is set. Spring's configuration metadata would serve too, but its processor cannot
 * see defaults that a compact constructor assigns, and it is not in the offline build.
 */
class ConfigurationTableTest {

  private static final Path ROOT = Cluster.repositoryRoot();
  private static final String ANNOTATION_BYTES =
      "Lorg/springframework/boot/context/properties/ConfigurationProperties;";
  private static final Pattern SOURCE_PREFIX =
      Pattern.compile("@ConfigurationProperties\\(\"([^\"]+)\"\\)");
  private static final Pattern ROW =
      Pattern.compile("^\\|\\s*`(shepherd\\.[^`]+)`\\s*\\|([^|]*)\\|.*\\|\\s*$");
  private static final Pattern ONE_VALUE = Pattern.compile("^`([^`]*)`$");

  /** A property the code binds: its name, whether it is a map, its default (null for none). */
  record Bound(String name, boolean map, Object defaultValue, boolean deterministic) {}

  /** One README row: the property as written and its default cell. */
  record Row(String name, String defaultCell) {}

  private static Map<String, Bound> bound;
  private static List<Row> rows;

  @BeforeAll
  static void read() throws Exception {
    bound = boundProperties();
    rows = readmeRows();
  }

  @Test
  void everyPrefixInTheSourcesIsFoundInTheCompiledRecords() throws IOException {
    Set<String> inSources = new TreeSet<>();
    for (Path file : sources()) {
      Matcher m = SOURCE_PREFIX.matcher(Files.readString(file));
      while (m.find()) {
        inSources.add(m.group(1));
      }
    }
    Set<String> compiled =
        bound.keySet().stream()
            .map(name -> name.substring(0, name.lastIndexOf('.')))
            .collect(Collectors.toCollection(TreeSet::new));
    assertThat(inSources).as("@ConfigurationProperties prefixes in the sources").isNotEmpty();
    assertThat(compiled)
        .as("prefixes of the compiled records (rebuild with mvn install if one is missing)")
        .containsAll(inSources);
  }

  @Test
  void everyPropertyTheCodeBindsHasARowInTheReadme() {
    List<String> missing = new ArrayList<>();
    for (Bound property : bound.values()) {
      if (rows.stream().noneMatch(row -> names(row, property))) {
        missing.add(
            property.name()
                + (property.map() ? ".<key>" : "")
                + " (default "
                + render(property.defaultValue())
                + ")");
      }
    }
    if (!missing.isEmpty()) {
      fail("README.md's Configuration table has no row for " + String.join(", ", missing));
    }
  }

  @Test
  void everyShepherdRowOfTheReadmeNamesARealProperty() {
    List<String> unknown =
        rows.stream()
            .filter(row -> bound.values().stream().noneMatch(p -> names(row, p)))
            .map(Row::name)
            .toList();
    if (!unknown.isEmpty()) {
      fail("README.md's Configuration table names properties no record binds: " + unknown);
    }
  }

  @Test
  void aDefaultStatedInTheReadmeIsTheCodesDefault() {
    List<String> disagree = new ArrayList<>();
    for (Row row : rows) {
      Bound property = bound.values().stream().filter(p -> names(row, p)).findFirst().orElse(null);
      if (property == null || !property.deterministic()) {
        continue; // unknown rows fail the test above; a random default (the worker id) has none
      }
      if (property.map() && !row.name().matches(Pattern.quote(property.name()) + "\\.<[^>.]+>")) {
        continue; // a row about one key's setting (timeouts.<type>.stall), not the map's default
      }
      String cell = row.defaultCell();
      Matcher one = ONE_VALUE.matcher(cell);
      if (one.matches()) {
        if (!sameValue(one.group(1), property.defaultValue())) {
          disagree.add(
              row.name()
                  + ": README `"
                  + one.group(1)
                  + "`, code "
                  + render(property.defaultValue()));
        }
      } else if ((cell.isEmpty() || cell.equals("none")) && !isEmpty(property.defaultValue())) {
        disagree.add(row.name() + ": README states none, code " + render(property.defaultValue()));
      }
      // other cells are prose ("6 heartbeats"): not compared
    }
    if (!disagree.isEmpty()) {
      fail("README.md's defaults differ from the code's:\n  " + String.join("\n  ", disagree));
    }
  }

  @Test
  void theCheckReadsTheWholeTable() {
    assertThat(rows)
        .as("shepherd.* rows of README.md's Configuration table")
        .hasSizeGreaterThan(20);
    assertThat(bound)
        .containsKeys(
            "shepherd.store.lease-ttl",
            "shepherd.worker.capacity",
            "shepherd.recovery.pod-watch.enabled",
            "shepherd.scheduler.max-attempts",
            "shepherd.demo.phase-time");
  }

  // ----- the README

  private static List<Row> readmeRows() throws IOException {
    List<String> lines = Files.readAllLines(ROOT.resolve("README.md"));
    int start = lines.indexOf("## Configuration");
    assertThat(start).as("README.md has a '## Configuration' section").isNotNegative();
    List<Row> found = new ArrayList<>();
    for (String line : lines.subList(start + 1, lines.size())) {
      if (line.startsWith("## ")) {
        break;
      }
      Matcher m = ROW.matcher(line);
      if (m.matches()) {
        found.add(new Row(m.group(1), m.group(2).strip()));
      }
    }
    return found;
  }

  /** A row names a property exactly, or names a key of a map property. */
  private static boolean names(Row row, Bound property) {
    return row.name().equals(property.name())
        || (property.map() && row.name().startsWith(property.name() + "."));
  }

  // ----- the code

  private static Map<String, Bound> boundProperties() throws Exception {
    List<Path> classDirs = classDirectories();
    URL[] urls = new URL[classDirs.size()];
    for (int i = 0; i < urls.length; i++) {
      urls[i] = url(classDirs.get(i));
    }
    Map<String, Bound> all = new TreeMap<>();
    try (var loader = new URLClassLoader(urls, ConfigurationTableTest.class.getClassLoader())) {
      for (Path dir : classDirs) {
        for (String className : annotatedClassNames(dir)) {
          Class<?> type = Class.forName(className, false, loader);
          ConfigurationProperties annotation = type.getAnnotation(ConfigurationProperties.class);
          if (annotation == null) {
            continue; // names the annotation without carrying it (@EnableConfigurationProperties)
          }
          assertThat(type.isRecord())
              .as(type.getName() + " binds " + prefixOf(annotation) + " but is not a record")
              .isTrue();
          collect(prefixOf(annotation), type, defaults(type), defaults(type), all);
        }
      }
    }
    return all;
  }

  private static String prefixOf(ConfigurationProperties annotation) {
    return annotation.prefix().isEmpty() ? annotation.value() : annotation.prefix();
  }

  private static void collect(
      String prefix, Class<?> type, Object first, Object second, Map<String, Bound> into)
      throws ReflectiveOperationException {
    for (RecordComponent component : type.getRecordComponents()) {
      String name = prefix + "." + kebab(component.getName());
      Object value = component.getAccessor().invoke(first);
      Object again = component.getAccessor().invoke(second);
      Class<?> valueType = component.getType();
      if (valueType.isRecord()) {
        collect(name, valueType, value, again, into);
      } else {
        boolean map = Map.class.isAssignableFrom(valueType);
        into.put(name, new Bound(name, map, value, Objects.equals(value, again)));
      }
    }
  }

  /** The record as Spring binds it when nothing is set: every constructor argument null. */
  private static Object defaults(Class<?> record) throws ReflectiveOperationException {
    Class<?>[] types =
        Stream.of(record.getRecordComponents())
            .map(RecordComponent::getType)
            .toArray(Class<?>[]::new);
    Constructor<?> canonical = record.getDeclaredConstructor(types);
    canonical.setAccessible(true);
    return canonical.newInstance(new Object[types.length]);
  }

  private static List<Path> classDirectories() throws IOException {
    List<Path> dirs = new ArrayList<>();
    for (String parent : List.of("libs", "services")) {
      try (Stream<Path> modules = Files.list(ROOT.resolve(parent))) {
        modules
            .map(m -> m.resolve("target/classes"))
            .filter(Files::isDirectory)
            .sorted()
            .forEach(dirs::add);
      }
    }
    assertThat(dirs).as("compiled modules under libs/ and services/ (mvn install)").isNotEmpty();
    return dirs;
  }

  private static List<String> annotatedClassNames(Path classes) throws IOException {
    try (Stream<Path> files = Files.walk(classes)) {
      return files
          .filter(f -> f.toString().endsWith(".class"))
          .filter(ConfigurationTableTest::mentionsTheAnnotation)
          .map(f -> classes.relativize(f).toString())
          .map(f -> f.substring(0, f.length() - ".class".length()).replace('/', '.'))
          .sorted()
          .toList();
    }
  }

  private static boolean mentionsTheAnnotation(Path classFile) {
    try {
      return new String(Files.readAllBytes(classFile), StandardCharsets.ISO_8859_1)
          .contains(ANNOTATION_BYTES);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<Path> sources() throws IOException {
    List<Path> files = new ArrayList<>();
    for (String parent : List.of("libs", "services")) {
      try (Stream<Path> walk = Files.walk(ROOT.resolve(parent))) {
        walk.filter(f -> f.toString().endsWith(".java"))
            .filter(f -> f.toString().contains("/src/main/java/"))
            .forEach(files::add);
      }
    }
    return files;
  }

  private static URL url(Path dir) {
    try {
      return dir.toUri().toURL();
    } catch (MalformedURLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String kebab(String camel) {
    return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
  }

  // ----- values

  private static boolean sameValue(String readme, Object code) {
    if (code == null) {
      return false;
    }
    try {
      return switch (code) {
        case Duration d -> DurationStyle.detectAndParse(readme).equals(d);
        case Number n -> new BigDecimal(readme).compareTo(new BigDecimal(n.toString())) == 0;
        case Map<?, ?> m -> readme.equals(render(m));
        default -> readme.equals(code.toString());
      };
    } catch (IllegalArgumentException e) {
      return false; // not a duration or a number where the code has one
    }
  }

  private static boolean isEmpty(Object value) {
    return value == null
        || (value instanceof Map<?, ?> m && m.isEmpty())
        || (value instanceof Collection<?> c && c.isEmpty());
  }

  /** A map as the README writes it: {@code key: a, b; other: c}, keys sorted. */
  private static String render(Object value) {
    if (value instanceof Map<?, ?> map) {
      Map<String, String> sorted = new LinkedHashMap<>();
      map.entrySet().stream()
          .sorted(Map.Entry.comparingByKey((a, b) -> a.toString().compareTo(b.toString())))
          .forEach(
              e ->
                  sorted.put(
                      e.getKey().toString(),
                      e.getValue() instanceof Collection<?> c
                          ? c.stream().map(Object::toString).collect(Collectors.joining(", "))
                          : String.valueOf(e.getValue())));
      return sorted.entrySet().stream()
          .map(e -> e.getKey() + ": " + e.getValue())
          .collect(Collectors.joining("; "));
    }
    return String.valueOf(value);
  }
}
