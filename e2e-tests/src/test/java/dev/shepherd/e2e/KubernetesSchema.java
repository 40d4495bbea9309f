package dev.shepherd.e2e;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks rendered manifests against the Kubernetes API's own types, as kubeconform would against
 * its JSON Schemas: each object of a built-in kind is read into fabric8's model of the API
 * (kubernetes-model 8.0, Kubernetes 1.33), so a value of the wrong type fails, and a field the API
 * does not have (a typo, a field of another version) lands in a model object's {@code
 * additionalProperties}, which must stay empty. Custom resources (ServiceMonitor, ScaledObject,
 * ...) have no model here and are only checked for apiVersion, kind and name.
 */
final class KubernetesSchema {

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private KubernetesSchema() {}

  /** What is wrong with one manifest (YAML or JSON of one object); empty when nothing is. */
  static List<String> problems(String manifest) {
    List<String> problems = new ArrayList<>();
    HasMetadata object;
    try {
      object = SERIALIZATION.unmarshal(manifest, HasMetadata.class);
    } catch (RuntimeException e) {
      return List.of("does not read as a Kubernetes object: " + e.getMessage());
    }
    String name = object.getKind() + " " + object.getMetadata().getName();
    if (object.getApiVersion() == null || object.getMetadata().getName() == null) {
      problems.add(name + ": no apiVersion or name");
    }
    if (!(object instanceof GenericKubernetesResource)) {
      walk(object, name, problems, new IdentityHashMap<>());
    }
    return problems;
  }

  private static void walk(
      Object value, String path, List<String> problems, Map<Object, Boolean> seen) {
    if (value == null || seen.put(value, true) != null) {
      return;
    }
    if (value instanceof Collection<?> items) {
      int i = 0;
      for (Object item : items) {
        walk(item, path + "[" + i++ + "]", problems, seen);
      }
      return;
    }
    if (value instanceof Map<?, ?> map) {
      map.forEach((k, v) -> walk(v, path + "." + k, problems, seen));
      return;
    }
    if (!value.getClass().getPackageName().startsWith("io.fabric8.kubernetes.api.model")) {
      return;
    }
    for (Class<?> type = value.getClass(); type != Object.class; type = type.getSuperclass()) {
      for (Field field : type.getDeclaredFields()) {
        if (Modifier.isStatic(field.getModifiers())) {
          continue;
        }
        field.setAccessible(true);
        Object child;
        try {
          child = field.get(value);
        } catch (IllegalAccessException e) {
          throw new IllegalStateException(e);
        }
        if (field.getName().equals("additionalProperties")) {
          if (child instanceof Map<?, ?> extra && !extra.isEmpty()) {
            problems.add(path + ": fields the API does not have: " + extra.keySet());
          }
        } else {
          walk(child, path + "." + field.getName(), problems, seen);
        }
      }
    }
  }
}
