{
  "targets": [
    {
      "target_name": "acd_udp_reader",
      "conditions": [
        [
          "OS=='linux'",
          {
            "sources": ["src/collect/input/native/udp_reader.c"],
            "cflags": ["-O2", "-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"]
          },
          { "type": "none" }
        ]
      ]
    }
  ]
}
