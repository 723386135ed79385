/*
  Browser miners shipped in web roots: CoinHive and its clones (CryptoLoot, CoinImp, deepMiner, WebMinePool, JSECoin)
  and the WebAssembly CryptoNight modules they load.
*/

rule web_miner_script
{
  meta:
    description = "browser crypto-mining script (CoinHive, CryptoLoot, CoinImp, deepMiner, WebMinePool)"
    family = "web-miner"
    strength = "conclusive"
    severity = "high"
  strings:
    $api1 = "CoinHive.Anonymous"
    $api2 = "CoinHive.User"
    $api3 = "CoinHive.Token"
    $api4 = "CryptoLoot.Anonymous"
    $api5 = "CRLT.Anonymous"
    $api6 = "deepMiner.Anonymous"
    $api7 = "WMP.Anonymous"
    $api8 = "Client.Anonymous("
    $host1 = "coinhive.com"
    $host2 = "coin-hive.com"
    $host3 = "authedmine.com"
    $host4 = "crypto-loot.com"
    $host5 = "coinimp.com"
    $host6 = "webminepool.com"
    $host7 = "jsecoin.com"
    $host8 = "minero.cc"
    $lib1 = "coinhive.min.js"
    $lib2 = "cryptonight.wasm"
    $lib3 = "cryptonight_hash"
  condition:
    (any of ($api1, $api2, $api3, $api4, $api5, $api6, $api7)) or
    ($api8 and any of ($host*)) or
    (any of ($host*) and any of ($lib*))
}

rule wasm_cryptonight_miner
{
  meta:
    description = "WebAssembly module exporting a CryptoNight hash (browser miner core)"
    family = "web-miner"
    strength = "conclusive"
    severity = "high"
  strings:
    $e1 = "cryptonight_hash"
    $e2 = "cryptonight_create"
    $e3 = "cryptonight_destroy"
    $e4 = "cn_slow_hash"
    $e5 = "cryptonight" nocase
    $e6 = "randomx_calculate_hash"
  condition:
    uint32(0) == 0x6d736100 and (any of ($e1, $e2, $e3, $e4, $e6) or #e5 >= 2)
}
