/*
  GPU miners: ccminer, nheqminer, ethminer, T-Rex, lolMiner, NBMiner, PhoenixMiner, TeamRedMiner, GMiner, SRBMiner,
  nanominer. Each names itself in its banner and usage text; the name is required together with mining traits
  (stratum, algorithm names, pool options) so that a tool merely mentioning a miner does not match.
*/

rule gpu_miner
{
  meta:
    description = "GPU crypto miner (ccminer, nheqminer, ethminer, T-Rex, lolMiner, NBMiner, PhoenixMiner, ...)"
    family = "gpu-miner"
    strength = "conclusive"
    severity = "critical"
  strings:
    $n1 = "ccminer" nocase fullword
    $n2 = "nheqminer" nocase fullword
    $n3 = "ethminer" nocase fullword
    $n4 = "T-Rex NVIDIA GPU miner" nocase
    $n5 = "lolMiner" fullword
    $n6 = "NBMiner" fullword
    $n7 = "PhoenixMiner" fullword
    $n8 = "TeamRedMiner" fullword
    $n9 = "GMiner" fullword
    $n10 = "SRBMiner" nocase
    $n11 = "nanominer" nocase fullword
    $t1 = /stratum[12]?\+(tcp|ssl|tls):\/\//
    $t2 = "mining.subscribe"
    $t3 = "mining.authorize"
    $t4 = "ethash" nocase fullword
    $t5 = "equihash" nocase
    $t6 = "kawpow" nocase
    $t7 = "--farm-recheck"
    $t8 = "--cuda-devices"
    $t9 = "-epool"
    $t10 = "-ewal"
    $t11 = "autolykos" nocase
    $t12 = "cryptonight" nocase
  condition:
    any of ($n*) and 3 of ($t*)
}
