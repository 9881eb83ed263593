{
  "targets": [
    {
      # The N-API addon loaded by tsrun (src/native/addon.ts).
      "target_name": "tsrun_native",
      "sources": ["addon/native/binding.cc", "addon/native/compile_seccomp.cc", "addon/native/device_program.cc", "addon/native/eventfd.cc", "addon/native/netdev.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    },
    {
      # tsrun-init: the container's init until it execs the user's program.
      # Static, without exceptions or RTTI, so that a waiting container costs
      # a few pages and loads no shared library.
      "target_name": "tsrun-init",
      "type": "executable",
      "sources": [
        "addon/init/main.cc",
        "addon/init/join_cgroups.cc",
        "addon/init/sync.cc",
        "addon/init/plan.cc",
        "addon/init/namespaces.cc",
        "addon/init/idmap.cc",
        "addon/init/rootfs.cc",
        "addon/init/copyup.cc",
        "addon/init/console.cc",
        "addon/init/process.cc",
        "addon/init/start_hooks.cc",
        "addon/init/hook.cc"
      ],
      "cflags_cc": ["-std=c++17", "-Os", "-fno-exceptions", "-fno-rtti", "-fno-asynchronous-unwind-tables", "-Wall", "-Wextra"],
      "ldflags": ["-static", "-Wl,--gc-sections", "-s"]
    }
  ]
}
