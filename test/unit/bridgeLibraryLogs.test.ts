import { libraryLevel } from "../../src/logging/bridgeLibraryLogs";

describe("matrix-appservice-bridge log levels", () => {
  it("keeps the library's levels, except the expected misses it logs as errors", () => {
    expect(libraryLevel("ERROR", "Appservice", "Error registering user: User ID is in use")).toBe("debug");
    expect(libraryLevel("error", "MatrixHttpClient", "M_NOT_FOUND: Room alias not found")).toBe("debug");
    expect(libraryLevel("ERROR", "Appservice", "Error registering user: M_EXCLUSIVE")).toBe("error");
    expect(libraryLevel("ERROR", "MatrixHttpClient", "M_FORBIDDEN")).toBe("error");
    expect(libraryLevel("WARN", "Appservice", "User ID is in use")).toBe("warn");
    expect(libraryLevel("VERBOSE", undefined, "x")).toBe("debug");
    expect(libraryLevel(undefined, undefined, "x")).toBe("info");
  });
});
