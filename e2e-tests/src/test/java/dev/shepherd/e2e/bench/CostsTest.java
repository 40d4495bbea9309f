package dev.shepherd.e2e.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class CostsTest {

  @Test
  void commandStatsAreReadAsCallsPerCommand() {
    var stats = new Properties();
    stats.setProperty("cmdstat_evalsha", "calls=300,usec=900,usec_per_call=3.00");
    stats.setProperty("cmdstat_hset", "calls=1200,usec=100");
    stats.setProperty("errorstat_ERR", "count=1");

    assertThat(Costs.commandStats(stats))
        .containsExactly(Map.entry("evalsha", 300.0), Map.entry("hset", 1200.0));
  }

  @Test
  void aClustersCommandStatsAreSummedOverItsNodes() {
    var stats = new Properties();
    stats.setProperty("127.0.0.1:7000.cmdstat_evalsha", "calls=300,usec=900");
    stats.setProperty("127.0.0.1:7001.cmdstat_evalsha", "calls=200,usec=600");
    stats.setProperty("127.0.0.1:7001.cmdstat_hset", "calls=50,usec=100");

    assertThat(Costs.commandStats(stats))
        .containsExactly(Map.entry("evalsha", 500.0), Map.entry("hset", 50.0));
  }

  @Test
  void perJobGrowthIsSortedLargestFirstAndLeavesOutWhatDidNotGrow() {
    var before = Map.of("claim.lua", 10.0, "submit.lua", 10.0, "view.lua", 4.0);
    var after = Map.of("claim.lua", 110.0, "submit.lua", 210.0, "view.lua", 4.0, "new.lua", 50.0);

    assertThat(Costs.perJobBy(after, before, 100))
        .containsExactly(
            Map.entry("submit.lua", 2.0), Map.entry("claim.lua", 1.0), Map.entry("new.lua", 0.5));
  }
}
