# One multi-stage build for every Shepherd service:
#   docker build --build-arg SERVICE=scheduler -t shepherd/scheduler .
# SERVICE is one of scheduler, status-tracker, recovery, worker.
FROM eclipse-temurin:21-jdk-alpine AS build
RUN apk add --no-cache maven
ARG SERVICE
WORKDIR /src
# the POMs first: the dependencies' layer is cached until a POM changes
COPY pom.xml ./
COPY contracts/pom.xml contracts/
COPY libs/model/pom.xml libs/model/
COPY libs/distribution/pom.xml libs/distribution/
COPY libs/distribution-kubernetes/pom.xml libs/distribution-kubernetes/
COPY libs/test-support/pom.xml libs/test-support/
COPY libs/messaging/pom.xml libs/messaging/
COPY libs/store/pom.xml libs/store/
COPY libs/engine/pom.xml libs/engine/
COPY libs/client/pom.xml libs/client/
COPY libs/worker-sdk/pom.xml libs/worker-sdk/
COPY libs/cli/pom.xml libs/cli/
COPY libs/spring-boot-starter-worker/pom.xml libs/spring-boot-starter-worker/
COPY libs/worker-test/pom.xml libs/worker-test/
COPY services/scheduler/pom.xml services/scheduler/
COPY services/status-tracker/pom.xml services/status-tracker/
COPY services/recovery/pom.xml services/recovery/
COPY services/worker/pom.xml services/worker/
COPY examples/report-worker/pom.xml examples/report-worker/
COPY e2e-tests/pom.xml e2e-tests/
RUN mvn -B -ntp -q -pl services/${SERVICE} -am dependency:go-offline -Dspotless.check.skip=true || true
COPY . .
# only this service and the modules it needs
RUN mvn -B -ntp -q -pl services/${SERVICE} -am -DskipTests -Dspotless.check.skip=true package \
 && cp services/${SERVICE}/target/shepherd-${SERVICE}-*.jar /service.jar \
 && java -Djarmode=tools -jar /service.jar extract --layers --destination /layers

FROM eclipse-temurin:21-jre-alpine
RUN addgroup -S shepherd && adduser -S -G shepherd -u 10001 shepherd
WORKDIR /app
# Spring Boot's layers, least often changed first, so a new build of Shepherd's own code ships
# only the last ones; the extracted jar also starts faster than the fat jar (ADR 22 amendment)
COPY --from=build /layers/dependencies/ /app/
COPY --from=build /layers/spring-boot-loader/ /app/
COPY --from=build /layers/snapshot-dependencies/ /app/
COPY --from=build /layers/application/ /app/
COPY deploy/jvm.options /app/jvm.options
USER 10001
# The JVM options (C1 only, serial GC, heap from the memory limit: ADR 22). To change one, set
# JDK_JAVA_OPTIONS="@/app/jvm.options -XX:..." (a later option wins).
ENV JDK_JAVA_OPTIONS="@/app/jvm.options" \
    LOGGING_STRUCTURED_FORMAT_CONSOLE=ecs
# 8080: the API (the scheduler's); 8090: the actuator's probes and metrics, for the management
# network only (ADR 40)
EXPOSE 8080 8090
ENTRYPOINT ["java", "-jar", "/app/service.jar", "--server.port=8080", "--management.server.port=8090"]
