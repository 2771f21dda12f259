// The IoT Sentinel labels as categories iotguard reports, decided from what
// each product is (not from what iotguard guesses), and the paper's 27 types
// (the four models with two units each share a type).
export const COARSE = {
  Aria: 'sensor', // Fitbit Aria scale
  'D-LinkCam': 'camera',
  'D-LinkDayCam': 'camera',
  'D-LinkDoorSensor': 'sensor',
  'D-LinkHomeHub': 'hub',
  'D-LinkSensor': 'sensor', // DCH-S150 motion sensor
  'D-LinkSiren': 'sensor', // DCH-S220 siren, an alarm accessory
  'D-LinkSwitch': 'plug', // DSP-W215 smart plug
  'D-LinkWaterSensor': 'sensor',
  EdimaxCam1: 'camera',
  EdimaxCam2: 'camera',
  EdimaxPlug1101W: 'plug',
  EdimaxPlug2101W: 'plug',
  EdnetCam1: 'camera',
  EdnetCam2: 'camera',
  EdnetGateway: 'hub',
  HomeMaticPlug: 'plug',
  HueBridge: 'hub',
  HueSwitch: 'sensor', // Hue dimmer switch, a ZigBee accessory
  Lightify: 'hub',
  MAXGateway: 'hub',
  SmarterCoffee: 'appliance',
  'TP-LinkPlugHS100': 'plug',
  'TP-LinkPlugHS110': 'plug',
  WeMoInsightSwitch: 'plug',
  WeMoInsightSwitch2: 'plug',
  WeMoLink: 'hub',
  WeMoSwitch: 'plug',
  WeMoSwitch2: 'plug',
  Withings: 'sensor',
  iKettle2: 'appliance',
};

export function paperType(label) {
  return label.replace(/^(EdimaxCam|EdnetCam)\d$/, '$1').replace(/^(WeMoInsightSwitch|WeMoSwitch)2$/, '$1');
}
