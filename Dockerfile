# One multi-stage build for every Shepherd service:
#   docker build --build-arg SERVICE=scheduler -t shepherd/scheduler .
# SERVICE is one of scheduler, status-tracker, recovery, worker.
FROM eclipse-temurin:21-jdk-alpine AS build
RUN apk add --no-cache maven
WORKDIR /src
COPY . .
RUN mvn -B -ntp -q -DskipTests -Dspotless.check.skip=true install

FROM eclipse-temurin:21-jre-alpine
ARG SERVICE
RUN addgroup -S shepherd && adduser -S -G shepherd -u 10001 shepherd
WORKDIR /app
COPY --from=build /src/services/${SERVICE}/target/shepherd-${SERVICE}-*.jar /app/service.jar
COPY deploy/jvm.options /app/jvm.options
USER 10001
# The JVM options (C1 only, serial GC, heap from the memory limit: ADR 22). To change one, set
# JDK_JAVA_OPTIONS="@/app/jvm.options -XX:..." (a later option wins).
ENV JDK_JAVA_OPTIONS="@/app/jvm.options" \
    LOGGING_STRUCTURED_FORMAT_CONSOLE=ecs
EXPOSE 8080
ENTRYPOINT ["java", "-jar", "/app/service.jar", "--server.port=8080"]
