// Host simulation shim: the global trace() of Moddable's XS, which writes its
// arguments to the debug console without adding a newline. Text is collected
// until a newline and printed a line at a time, so that output matches what a
// device shows on `mcconfig -d` (xsbug or the serial console).
let pending = "";

function write(text) {
  pending += text;
  let newline = pending.indexOf("\n");
  while (newline >= 0) {
    print(pending.slice(0, newline));
    pending = pending.slice(newline + 1);
    newline = pending.indexOf("\n");
  }
}

function trace(...values) {
  write(values.map((value) => String(value)).join(""));
}
trace.left = (value) => write(String(value) + "\n");
trace.center = trace.left;
trace.right = trace.left;

globalThis.trace = trace;

// Moddable's String.fromArrayBuffer, which xsnap's XS lacks: decodes UTF-8
// bytes (here only ASCII and two- to four-byte sequences, without
// validation, enough for the resources of the examples).
if (typeof String.fromArrayBuffer !== "function") {
  String.fromArrayBuffer = function fromArrayBuffer(buffer) {
    const bytes = new Uint8Array(buffer);
    let text = "";
    for (let i = 0; i < bytes.length; ) {
      const byte = bytes[i];
      let codePoint = byte;
      let length = 1;
      if (byte >= 0xf0) {
        codePoint = byte & 0x07;
        length = 4;
      } else if (byte >= 0xe0) {
        codePoint = byte & 0x0f;
        length = 3;
      } else if (byte >= 0xc0) {
        codePoint = byte & 0x1f;
        length = 2;
      }
      for (let k = 1; k < length; k++) codePoint = (codePoint << 6) | (bytes[i + k] & 0x3f);
      text += String.fromCodePoint(codePoint);
      i += length;
    }
    return text;
  };
}

/** Prints text that trace() left without a final newline. */
export function flushTrace() {
  if (pending.length > 0) {
    print(pending);
    pending = "";
  }
}
