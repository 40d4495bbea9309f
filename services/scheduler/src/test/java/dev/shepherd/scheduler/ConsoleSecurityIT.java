package dev.shepherd.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shepherd.model.JobState;
import dev.shepherd.model.Json;
import dev.shepherd.testsupport.ServiceEndpoints;
import dev.shepherd.testsupport.TestApiKeys;
import dev.shepherd.testsupport.TestNames;
import dev.shepherd.testsupport.WithRealServices;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The console's access control (issue 19, ADR 40 and 41) over plain HTTP, on the real broker and
 * Redis: sign-in and its cookie, CSRF on a signed-in browser's POSTs, a reader's 403 on an action,
 * another tenant's jobs neither listed nor shown.
 */
@WithRealServices
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleSecurityIT {

  private static final String OPERATOR_KEY = "acme-operator-key-51d0c7";
  private static final String READER_KEY = "acme-reader-key-a81f3e";
  private static final String GLOBEX_KEY = "globex-producer-key-27b9d4";
  private static final Pattern CSRF = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"");

  private InProcessScheduler scheduler;
  private URI base;
  private final HttpClient http =
      HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

  @BeforeAll
  void start(ServiceEndpoints endpoints, TestNames names) {
    Map<String, Object> props = new HashMap<>();
    key(props, 1, "acme-operator", OPERATOR_KEY, "acme");
    key(props, 2, "acme-reader", READER_KEY, "acme");
    key(props, 3, "globex-producer", GLOBEX_KEY, "globex");
    grant(props, 1, "acme-operator", "submit", "read", "cancel", "redrive", "discard");
    grant(props, 2, "acme-reader", "read");
    grant(props, 3, "globex-producer", "submit", "read");
    scheduler = InProcessScheduler.start(endpoints.asSpringProperties(), names.prefix(), props);
    base = scheduler.base();
  }

  private static void key(
      Map<String, Object> props, int i, String name, String key, String tenant) {
    props.put("shepherd.security.api-keys[" + i + "].name", name);
    props.put("shepherd.security.api-keys[" + i + "].sha256", TestApiKeys.sha256(key));
    props.put("shepherd.security.api-keys[" + i + "].tenant", tenant);
  }

  private static void grant(Map<String, Object> props, int i, String principal, String... ops) {
    props.put("shepherd.security.grants[" + i + "].principals[0]", principal);
    props.put("shepherd.security.grants[" + i + "].types[0]", "demo.*");
    for (int o = 0; o < ops.length; o++) {
      props.put("shepherd.security.grants[" + i + "].operations[" + o + "]", ops[o]);
    }
  }

  @AfterAll
  void stop() {
    if (scheduler != null) {
      scheduler.close();
    }
  }

  @Test
  void aBrowserThatIsNotSignedInIsSentToTheSignInPage() throws Exception {
    var response = send(HttpRequest.newBuilder(base.resolve("/console/jobs")).GET());
    assertThat(response.statusCode()).isEqualTo(302);
    assertThat(response.headers().firstValue("Location"))
        .hasValueSatisfying(l -> assertThat(l).endsWith("/console/login"));
    var page = send(HttpRequest.newBuilder(base.resolve("/console/login")).GET());
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body()).contains("<label for=\"apiKey\">API key</label>");
  }

  @Test
  void signingInKeepsTheKeyInAnHttpOnlySameSiteStrictCookieOfTheConsole() throws Exception {
    Browser browser = new Browser();
    assertThat(browser.signIn("not-a-key").statusCode()).isEqualTo(401);
    var signedIn = browser.signIn(OPERATOR_KEY);
    assertThat(signedIn.statusCode()).isEqualTo(303);
    String cookie =
        signedIn.headers().allValues("Set-Cookie").stream()
            .filter(c -> c.startsWith("shepherd_console_key="))
            .findFirst()
            .orElseThrow();
    assertThat(cookie).contains("HttpOnly").contains("SameSite=Strict").contains("Path=/console");
    assertThat(signedIn.headers().allValues("Set-Cookie"))
        .as("signing in drops the CSRF token the browser had before")
        .anySatisfy(c -> assertThat(c).startsWith("shepherd_console_csrf=;").contains("Max-Age=0"));
    var overview = browser.get("/console");
    assertThat(overview.statusCode()).isEqualTo(200);
    assertThat(overview.body()).contains("acme-operator");
  }

  @Test
  void aSignedInBrowsersPostWithoutTheCsrfTokenIsRefused() throws Exception {
    String id = submit(OPERATOR_KEY);
    Browser browser = new Browser();
    browser.signIn(OPERATOR_KEY);
    var forged = browser.post("/console/jobs/" + id + "/cancel", Map.of("reason", "forged"), false);
    assertThat(forged.statusCode()).isEqualTo(403);
    assertThat(state(id)).isNotEqualTo(JobState.CANCELLED.name());
    // the token of the page the form is on, after pages read as a signed-in browser
    browser.get("/console");
    var page = browser.get("/console/jobs/" + id + "/cancel");
    assertThat(page.headers().allValues("Set-Cookie"))
        .as("a signed-in browser's pages keep its CSRF token")
        .isEmpty();
    var confirmed =
        browser.post("/console/jobs/" + id + "/cancel", Map.of("reason", "not needed"), true);
    assertThat(confirmed.statusCode()).as(confirmed.body()).isEqualTo(303);
    assertThat(state(id)).isEqualTo(JobState.CANCELLED.name());
  }

  @Test
  void aReaderSeesTheJobWithoutActionsAndItsActionIsForbidden() throws Exception {
    String id = submit(OPERATOR_KEY);
    var page = send(keyed("/console/jobs/" + id, READER_KEY).GET());
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body()).contains(id).doesNotContain("id=\"cancel\"");
    var cancel = send(keyed("/console/jobs/" + id + "/cancel", READER_KEY).POST(form(Map.of())));
    assertThat(cancel.statusCode()).isEqualTo(403);
    assertThat(state(id)).isNotEqualTo(JobState.CANCELLED.name());
    assertThat(send(keyed("/console/jobs/" + id, OPERATOR_KEY).GET()).body())
        .contains("id=\"cancel\"");
    var bulk =
        send(
            keyed("/console/dead/bulk", READER_KEY)
                .POST(form(Map.of("action", "discard", "ids", id))));
    assertThat(bulk.statusCode()).as("a reader's bulk discard").isEqualTo(403);
  }

  @Test
  void anotherTenantsJobIsNeitherListedNorShown() throws Exception {
    String globex = submit(GLOBEX_KEY);
    String acme = submit(OPERATOR_KEY);
    String list = send(keyed("/console/jobs", READER_KEY).GET()).body();
    assertThat(list).contains(acme).doesNotContain(globex);
    assertThat(send(keyed("/console/jobs/" + globex, READER_KEY).GET()).statusCode())
        .isEqualTo(404);
    var search = send(keyed("/console/jobs/search?q=" + globex, READER_KEY).GET());
    assertThat(search.headers().firstValue("Location"))
        .hasValueSatisfying(l -> assertThat(l).doesNotContain("/console/jobs/" + globex));
    assertThat(send(keyed("/console", READER_KEY).GET()).body())
        .as("a tenant's caller gets no installation-wide counts")
        .doesNotContain("count-QUEUED");
  }

  // ---- helpers

  /** A browser's cookie jar, by hand: the console's key and CSRF cookies. */
  private final class Browser {
    private final Map<String, String> cookies = new HashMap<>();
    private String csrf;

    HttpResponse<String> signIn(String key) throws Exception {
      get("/console/login");
      return post("/console/login", Map.of("apiKey", key), true);
    }

    HttpResponse<String> get(String path) throws Exception {
      var response = send(withCookies(HttpRequest.newBuilder(base.resolve(path))).GET());
      keep(response);
      Matcher m = CSRF.matcher(response.body());
      if (m.find()) {
        csrf = m.group(1);
      }
      return response;
    }

    HttpResponse<String> post(String path, Map<String, String> fields, boolean withToken)
        throws Exception {
      Map<String, String> all = new HashMap<>(fields);
      if (withToken) {
        if (csrf == null) {
          get("/console");
        }
        all.put("_csrf", csrf);
      }
      var response = send(withCookies(HttpRequest.newBuilder(base.resolve(path))).POST(form(all)));
      keep(response);
      return response;
    }

    private HttpRequest.Builder withCookies(HttpRequest.Builder request) {
      if (!cookies.isEmpty()) {
        request.header(
            "Cookie",
            String.join(
                "; ",
                cookies.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList()));
      }
      return request.header("Content-Type", "application/x-www-form-urlencoded");
    }

    private void keep(HttpResponse<String> response) {
      for (String c : response.headers().allValues("Set-Cookie")) {
        String pair = c.split(";", 2)[0];
        int eq = pair.indexOf('=');
        cookies.put(pair.substring(0, eq), pair.substring(eq + 1));
      }
    }
  }

  private HttpRequest.Builder keyed(String path, String key) {
    return HttpRequest.newBuilder(base.resolve(path))
        .timeout(Duration.ofSeconds(10))
        .header("X-Api-Key", key)
        .header("Content-Type", "application/x-www-form-urlencoded");
  }

  private static HttpRequest.BodyPublisher form(Map<String, String> fields) {
    List<String> pairs =
        fields.entrySet().stream()
            .map(
                e ->
                    URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)
                        + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
            .toList();
    return HttpRequest.BodyPublishers.ofString(String.join("&", pairs));
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private String submit(String key) throws Exception {
    var response =
        send(
            HttpRequest.newBuilder(base.resolve("/api/v1/jobs"))
                .header("X-Api-Key", key)
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"type\":\"demo.noop\",\"payload\":{},\"notBefore\":\""
                            + java.time.Instant.now().plus(Duration.ofHours(1))
                            + "\"}")));
    assertThat(response.statusCode()).as(response.body()).isIn(200, 202);
    return Json.mapper().readTree(response.body()).get("jobId").asString();
  }

  private String state(String id) throws Exception {
    var response =
        send(
            HttpRequest.newBuilder(base.resolve("/api/v1/jobs/" + id))
                .header("X-Api-Key", TestApiKeys.ADMIN_KEY)
                .GET());
    return Json.mapper().readTree(response.body()).get("state").asString();
  }
}
