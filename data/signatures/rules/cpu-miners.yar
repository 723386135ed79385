/*
  CPU miners: XMRig, cpuminer (pooler's minerd, cpuminer-multi, cpuminer-opt) and xmr-stak. The strings are the
  programs' own usage text, option names and log messages, which builds keep even when stripped or recompiled.
  nomine reads the meta: strength (conclusive | strong | weak), severity, description.
*/

rule xmrig_miner
{
  meta:
    description = "XMRig Monero miner (usage text, option names, donation servers)"
    family = "xmrig"
    strength = "conclusive"
    severity = "critical"
  strings:
    $name = "xmrig" nocase
    $u1 = "URL of mining server"
    $u2 = "--donate-level"
    $u3 = "donate.v2.xmrig.com"
    $u4 = "donate.ssl.xmrig.com"
    $u5 = "--randomx-1gb-pages"
    $u6 = "--cpu-max-threads-hint"
    $u7 = "--donate-over-proxy"
    $u8 = "mining algorithm https://xmrig.com/docs/algorithms"
    $u9 = "\"donate-level\""
    $u10 = "--rig-id"
    $u11 = "xmrig-proxy"
    $u12 = "XMRIG_"
  condition:
    $name and 3 of ($u*)
}

rule cpuminer_miner
{
  meta:
    description = "cpuminer family (minerd, cpuminer-multi, cpuminer-opt): usage text and stratum client"
    family = "cpuminer"
    strength = "conclusive"
    severity = "critical"
  strings:
    $usage1 = "Usage: minerd [OPTIONS]"
    $usage2 = "Usage: cpuminer [OPTIONS]"
    $usage3 = "Usage: cpuminer-opt"
    $opt1 = "--coinbase-addr"
    $opt2 = "--no-longpoll"
    $opt3 = "--no-getwork"
    $opt4 = "--no-stratum"
    $opt5 = "URL of mining server"
    $log1 = "Stratum requested work restart"
    $log2 = "khash/s"
    $log3 = "stratum+tcp://"
    $m1 = "mining.subscribe"
    $m2 = "mining.notify"
    $m3 = "mining.authorize"
  condition:
    (any of ($usage*) and 2 of ($opt*, $log*, $m*)) or (3 of ($opt*) and 2 of ($m*)) or ($log1 and 2 of ($m*))
}

rule xmr_stak_miner
{
  meta:
    description = "xmr-stak / xmr-stak-rx Monero miner"
    family = "xmr-stak"
    strength = "conclusive"
    severity = "critical"
  strings:
    $name1 = "xmr-stak" nocase
    $name2 = "fireice-uk" nocase
    $o1 = "--noCPU"
    $o2 = "--noNVIDIA"
    $o3 = "--noAMD"
    $o4 = "--currency"
    $o5 = "pools.txt"
    $o6 = "cpu.txt"
    $o7 = "cryptonight" nocase
    $o8 = "randomx" nocase
  condition:
    any of ($name*) and 3 of ($o*)
}

rule stratum_mining_client
{
  meta:
    description = "stratum mining protocol client: several mining.* methods together with a stratum URL scheme"
    family = "generic-miner"
    strength = "strong"
    severity = "high"
  strings:
    $url = /stratum[12]?\+(tcp|ssl|tls):\/\//
    $m1 = "mining.subscribe"
    $m2 = "mining.authorize"
    $m3 = "mining.submit"
    $m4 = "mining.notify"
    $m5 = "mining.set_difficulty"
    $m6 = "mining.extranonce.subscribe"
  condition:
    $url and 2 of ($m*)
}
