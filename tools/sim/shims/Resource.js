// Host simulation shim of Moddable's "Resource" module. The files an example's
// manifest lists under "data" or "resources" are in __sim_resources__ (generated
// by tools/sim/simulate.ts), one ArrayBuffer each, keyed by file name with its
// extension, as mcconfig names them. new Resource(name) returns that ArrayBuffer
// itself, not a copy, so it is the only copy of the file in the XS heap, as a
// Resource on a device is the only copy (in flash). Unlike a device's Resource,
// the buffer is writable: nothing on XS's host build makes a read-only buffer.
import resources from "__sim_resources__";

class Resource {
  constructor(path) {
    const buffer = resources[path];
    if (buffer === undefined) {
      throw new Error(
        `Resource "${path}" not found: list the file under "data" in the example's manifest.json ` +
          `(resources in this simulation: ${Object.keys(resources).join(", ") || "none"})`,
      );
    }
    return buffer;
  }

  static exists(path) {
    return Object.prototype.hasOwnProperty.call(resources, path);
  }
}

export { Resource as default };
