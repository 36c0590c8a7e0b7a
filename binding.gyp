{
  # The C kernels as one N-API addon. Every .c file under native/src is compiled; each kernel file
  # carries its own AVX-512 / AVX2 / scalar variants (function-level target attributes) and picks one
  # at load time from what the CPU reports, so one binary runs on any x86-64 machine.
  "targets": [
    {
      "target_name": "tslm_native",
      "sources": ["<!@(node -e \"console.log(require('fs').readdirSync('native/src').filter(f=>f.endsWith('.c')).map(f=>'native/src/'+f).join(' '))\")"],
      "include_dirs": ["native/include"],
      "cflags": ["-O3", "-std=c11", "-fno-math-errno", "-fno-trapping-math", "-pthread", "-Wall", "-Wno-unused-function"],
      "cflags!": ["-fno-exceptions"],
      "ldflags": ["-pthread", "-lm"],
      "defines": ["NAPI_VERSION=8"],
      "xcode_settings": {"OTHER_CFLAGS": ["-O3", "-std=c11"]}
    }
  ]
}
