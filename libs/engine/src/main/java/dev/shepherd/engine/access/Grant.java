package dev.shepherd.engine.access;

import java.util.List;
import java.util.Set;

/**
 * One line of the access policy: these principals and groups may do these operations on the jobs of
 * these types. A type pattern is a type's exact name, {@code prefix.*} (every type whose name
 * starts with {@code prefix.}) or {@code *} (every type).
 */
public record Grant(
    List<String> principals, List<String> groups, List<String> types, Set<Operation> operations) {

  public Grant {
    principals = principals == null ? List.of() : List.copyOf(principals);
    groups = groups == null ? List.of() : List.copyOf(groups);
    types = types == null ? List.of() : List.copyOf(types);
    operations = operations == null ? Set.of() : Set.copyOf(operations);
    if (principals.isEmpty() && groups.isEmpty()) {
      throw new IllegalArgumentException("a grant names at least one principal or group");
    }
    if (types.isEmpty()) {
      throw new IllegalArgumentException(
          "a grant names at least one job type (exact, prefix.* or *)");
    }
    if (operations.isEmpty()) {
      throw new IllegalArgumentException("a grant names at least one operation");
    }
    for (String type : types) {
      if (type.isBlank() || (type.contains("*") && !type.equals("*") && !isPrefix(type))) {
        throw new IllegalArgumentException(
            "type pattern '" + type + "': an exact type, prefix.* or *, nothing else");
      }
    }
  }

  /** Whether the grant names this caller, by name or by one of its groups. */
  public boolean covers(Caller caller) {
    if (principals.contains(caller.name())) {
      return true;
    }
    for (String group : groups) {
      if (caller.groups().contains(group)) {
        return true;
      }
    }
    return false;
  }

  /** Whether the grant allows {@code operation} ({@code admin} allows every one). */
  public boolean allows(Operation operation) {
    return operations.contains(operation) || operations.contains(Operation.ADMIN);
  }

  /** Whether one of the grant's type patterns matches {@code type}. */
  public boolean matches(String type) {
    for (String pattern : types) {
      if (pattern.equals("*") || pattern.equals(type)) {
        return true;
      }
      if (isPrefix(pattern)
          && type.startsWith(pattern.substring(0, pattern.length() - 1))
          && type.length() > pattern.length() - 1) {
        return true;
      }
    }
    return false;
  }

  /** Whether the grant covers every type ({@code *}). */
  public boolean coversEveryType() {
    return types.contains("*");
  }

  private static boolean isPrefix(String pattern) {
    return pattern.length() > 2
        && pattern.endsWith(".*")
        && pattern.indexOf('*') == pattern.length() - 1;
  }
}
