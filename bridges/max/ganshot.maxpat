{
	"patcher": {
		"fileversion": 1,
		"appversion": {
			"major": 8,
			"minor": 6,
			"revision": 0,
			"architecture": "x64",
			"modernui": 1
		},
		"classnamespace": "box",
		"rect": [ 40.0, 80.0, 1320.0, 1180.0 ],
		"openrect": [ 0.0, 0.0, 0.0, 169.0 ],
		"openinpresentation": 1,
		"default_fontsize": 12.0,
		"default_fontface": 0,
		"default_fontname": "Arial",
		"gridsize": [ 15.0, 15.0 ],
		"description": "ganshot OSC controller: 16 pads, 8 latent knobs, morph, status, render-server demo",
		"boxes": [
			{
				"box": {
					"id": "obj-1",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 20.0, 10.0, 720.0, 34.0 ],
					"text": "ganshot: play a ganshot engine from Max or a Max for Live device over OSC. Start the engine with: ganshot serve --osc-reply-port 9001 (it listens on 127.0.0.1:9000)."
				}
			},
			{
				"box": {
					"id": "obj-2",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 20.0, 700.0, 168.0, 22.0 ],
					"text": "udpsend 127.0.0.1 9000"
				}
			},
			{
				"box": {
					"id": "obj-3",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 620.0, 60.0, 119.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "udpreceive 9001"
				}
			},
			{
				"box": {
					"id": "obj-4",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 760.0, 60.0, 300.0, 20.0 ],
					"text": "replies (ganshot serve --osc-reply-port 9001)"
				}
			},
			{
				"box": {
					"id": "obj-5",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 20.0, 50.0, 380.0, 20.0 ],
					"text": "pads: click to play; the last one played is the focused pad",
					"presentation": 1,
					"presentation_rect": [ 4.0, 2.0, 200.0, 20.0 ]
				}
			},
			{
				"box": {
					"id": "obj-6",
					"maxclass": "number",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 300.0, 330.0, 50.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"presentation": 1,
					"presentation_rect": [ 150.0, 112.0, 40.0, 22.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-7",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 355.0, 330.0, 90.0, 20.0 ],
					"text": "focused pad",
					"presentation": 1,
					"presentation_rect": [ 150.0, 92.0, 80.0, 20.0 ]
				}
			},
			{
				"box": {
					"id": "obj-8",
					"maxclass": "flonum",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 300.0, 300.0, 50.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"presentation": 1,
					"presentation_rect": [ 150.0, 62.0, 50.0, 22.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-9",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 355.0, 300.0, 90.0, 20.0 ],
					"text": "velocity",
					"presentation": 1,
					"presentation_rect": [ 150.0, 42.0, 60.0, 20.0 ]
				}
			},
			{
				"box": {
					"id": "obj-10",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 20.0, 400.0, 140.0, 22.0 ],
					"outlettype": [ "list" ],
					"text": "join 2 @triggers 0"
				}
			},
			{
				"box": {
					"id": "obj-11",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 20.0, 430.0, 140.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "/pad/trigger $1 $2"
				}
			},
			{
				"box": {
					"id": "obj-12",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 20.0, 360.0, 49.0, 22.0 ],
					"outlettype": [ "int", "int" ],
					"text": "t i i"
				}
			},
			{
				"box": {
					"id": "obj-13",
					"maxclass": "button",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 20.0, 80.0, 30.0, 30.0 ],
					"outlettype": [ "bang" ],
					"presentation": 1,
					"presentation_rect": [ 4.0, 24.0, 30.0, 30.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-14",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 20.0, 112.0, 30.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "0"
				}
			},
			{
				"box": {
					"id": "obj-15",
					"maxclass": "button",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 80.0, 80.0, 30.0, 30.0 ],
					"outlettype": [ "bang" ],
					"presentation": 1,
					"presentation_rect": [ 38.0, 24.0, 30.0, 30.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-16",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 80.0, 112.0, 30.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "1"
				}
			},
			{
				"box": {
					"id": "obj-17",
					"maxclass": "button",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 140.0, 80.0, 30.0, 30.0 ],
					"outlettype": [ "bang" ],
					"presentation": 1,
					"presentation_rect": [ 72.0, 24.0, 30.0, 30.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-18",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 140.0, 112.0, 30.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "2"
				}
			},
			{
				"box": {
					"id": "obj-19",
					"maxclass": "button",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 200.0, 80.0, 30.0, 30.0 ],
					"outlettype": [ "bang" ],
					"presentation": 1,
					"presentation_rect": [ 106.0, 24.0, 30.0, 30.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-20",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 200.0, 112.0, 30.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "3"
				}
			},
			{
				"box": {
					"id": "obj-21",
					"maxclass": "button",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 20.0, 140.0, 30.0, 30.0 ],
					"outlettype": [ "bang" ],
					"presentation": 1,
					"presentation_rect": [ 4.0, 58.0, 30.0, 30.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-22",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 20.0, 172.0, 30.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "4"
				}
			},
			{
				"box": {
					"id": "obj-23",
					"maxclass": "button",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 80.0, 140.0, 30.0, 30.0 ],
					"outlettype": [ "bang" ],
					"presentation": 1,
					"presentation_rect": [ 38.0, 58.0, 30.0, 30.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-24",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 80.0, 172.0, 30.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "5"
				}
			},
			{
				"box": {
					"id": "obj-25",
					"maxclass": "button",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 140.0, 140.0, 30.0, 30.0 ],
					"outlettype": [ "bang" ],
					"presentation": 1,
					"presentation_rect": [ 72.0, 58.0, 30.0, 30.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-26",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 140.0, 172.0, 30.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "6"
				}
			},
			{
				"box": {
					"id": "obj-27",
					"maxclass": "button",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 200.0, 140.0, 30.0, 30.0 ],
					"outlettype": [ "bang" ],
					"presentation": 1,
					"presentation_rect": [ 106.0, 58.0, 30.0, 30.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-28",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 200.0, 172.0, 30.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "7"
				}
			},
			{
				"box": {
					"id": "obj-29",
					"maxclass": "button",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 20.0, 200.0, 30.0, 30.0 ],
					"outlettype": [ "bang" ],
					"presentation": 1,
					"presentation_rect": [ 4.0, 92.0, 30.0, 30.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-30",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 20.0, 232.0, 30.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "8"
				}
			},
			{
				"box": {
					"id": "obj-31",
					"maxclass": "button",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 80.0, 200.0, 30.0, 30.0 ],
					"outlettype": [ "bang" ],
					"presentation": 1,
					"presentation_rect": [ 38.0, 92.0, 30.0, 30.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-32",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 80.0, 232.0, 30.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "9"
				}
			},
			{
				"box": {
					"id": "obj-33",
					"maxclass": "button",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 140.0, 200.0, 30.0, 30.0 ],
					"outlettype": [ "bang" ],
					"presentation": 1,
					"presentation_rect": [ 72.0, 92.0, 30.0, 30.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-34",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 140.0, 232.0, 30.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "10"
				}
			},
			{
				"box": {
					"id": "obj-35",
					"maxclass": "button",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 200.0, 200.0, 30.0, 30.0 ],
					"outlettype": [ "bang" ],
					"presentation": 1,
					"presentation_rect": [ 106.0, 92.0, 30.0, 30.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-36",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 200.0, 232.0, 30.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "11"
				}
			},
			{
				"box": {
					"id": "obj-37",
					"maxclass": "button",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 20.0, 260.0, 30.0, 30.0 ],
					"outlettype": [ "bang" ],
					"presentation": 1,
					"presentation_rect": [ 4.0, 126.0, 30.0, 30.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-38",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 20.0, 292.0, 30.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "12"
				}
			},
			{
				"box": {
					"id": "obj-39",
					"maxclass": "button",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 80.0, 260.0, 30.0, 30.0 ],
					"outlettype": [ "bang" ],
					"presentation": 1,
					"presentation_rect": [ 38.0, 126.0, 30.0, 30.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-40",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 80.0, 292.0, 30.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "13"
				}
			},
			{
				"box": {
					"id": "obj-41",
					"maxclass": "button",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 140.0, 260.0, 30.0, 30.0 ],
					"outlettype": [ "bang" ],
					"presentation": 1,
					"presentation_rect": [ 72.0, 126.0, 30.0, 30.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-42",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 140.0, 292.0, 30.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "14"
				}
			},
			{
				"box": {
					"id": "obj-43",
					"maxclass": "button",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 200.0, 260.0, 30.0, 30.0 ],
					"outlettype": [ "bang" ],
					"presentation": 1,
					"presentation_rect": [ 106.0, 126.0, 30.0, 30.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-44",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 200.0, 292.0, 30.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "15"
				}
			},
			{
				"box": {
					"id": "obj-45",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 300.0, 360.0, 77.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "/focus $1"
				}
			},
			{
				"box": {
					"id": "obj-46",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 300.0, 270.0, 91.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "loadmess 1."
				}
			},
			{
				"box": {
					"id": "obj-47",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 20.0, 470.0, 380.0, 20.0 ],
					"text": "latent knobs of the focused pad (/pad/knob, -1..1)",
					"presentation": 1,
					"presentation_rect": [ 240.0, 2.0, 300.0, 20.0 ]
				}
			},
			{
				"box": {
					"id": "obj-48",
					"maxclass": "dial",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 20.0, 500.0, 40.0, 40.0 ],
					"outlettype": [ "float" ],
					"presentation": 1,
					"presentation_rect": [ 240.0, 24.0, 36.0, 36.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-49",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 20.0, 550.0, 70.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "expr $i1/63.5-1."
				}
			},
			{
				"box": {
					"id": "obj-50",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 20.0, 580.0, 70.0, 22.0 ],
					"outlettype": [ "list" ],
					"text": "join 2 @triggers 1"
				}
			},
			{
				"box": {
					"id": "obj-51",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 20.0, 610.0, 70.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "/pad/knob $1 0 $2"
				}
			},
			{
				"box": {
					"id": "obj-52",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 62.0, 500.0, 30.0, 20.0 ],
					"text": "d0",
					"presentation": 1,
					"presentation_rect": [ 250.0, 60.0, 30.0, 20.0 ]
				}
			},
			{
				"box": {
					"id": "obj-53",
					"maxclass": "dial",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 95.0, 500.0, 40.0, 40.0 ],
					"outlettype": [ "float" ],
					"presentation": 1,
					"presentation_rect": [ 280.0, 24.0, 36.0, 36.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-54",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 95.0, 550.0, 70.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "expr $i1/63.5-1."
				}
			},
			{
				"box": {
					"id": "obj-55",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 95.0, 580.0, 70.0, 22.0 ],
					"outlettype": [ "list" ],
					"text": "join 2 @triggers 1"
				}
			},
			{
				"box": {
					"id": "obj-56",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 95.0, 610.0, 70.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "/pad/knob $1 1 $2"
				}
			},
			{
				"box": {
					"id": "obj-57",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 137.0, 500.0, 30.0, 20.0 ],
					"text": "d1",
					"presentation": 1,
					"presentation_rect": [ 290.0, 60.0, 30.0, 20.0 ]
				}
			},
			{
				"box": {
					"id": "obj-58",
					"maxclass": "dial",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 170.0, 500.0, 40.0, 40.0 ],
					"outlettype": [ "float" ],
					"presentation": 1,
					"presentation_rect": [ 320.0, 24.0, 36.0, 36.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-59",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 170.0, 550.0, 70.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "expr $i1/63.5-1."
				}
			},
			{
				"box": {
					"id": "obj-60",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 170.0, 580.0, 70.0, 22.0 ],
					"outlettype": [ "list" ],
					"text": "join 2 @triggers 1"
				}
			},
			{
				"box": {
					"id": "obj-61",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 170.0, 610.0, 70.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "/pad/knob $1 2 $2"
				}
			},
			{
				"box": {
					"id": "obj-62",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 212.0, 500.0, 30.0, 20.0 ],
					"text": "d2",
					"presentation": 1,
					"presentation_rect": [ 330.0, 60.0, 30.0, 20.0 ]
				}
			},
			{
				"box": {
					"id": "obj-63",
					"maxclass": "dial",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 245.0, 500.0, 40.0, 40.0 ],
					"outlettype": [ "float" ],
					"presentation": 1,
					"presentation_rect": [ 360.0, 24.0, 36.0, 36.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-64",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 245.0, 550.0, 70.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "expr $i1/63.5-1."
				}
			},
			{
				"box": {
					"id": "obj-65",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 245.0, 580.0, 70.0, 22.0 ],
					"outlettype": [ "list" ],
					"text": "join 2 @triggers 1"
				}
			},
			{
				"box": {
					"id": "obj-66",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 245.0, 610.0, 70.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "/pad/knob $1 3 $2"
				}
			},
			{
				"box": {
					"id": "obj-67",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 287.0, 500.0, 30.0, 20.0 ],
					"text": "d3",
					"presentation": 1,
					"presentation_rect": [ 370.0, 60.0, 30.0, 20.0 ]
				}
			},
			{
				"box": {
					"id": "obj-68",
					"maxclass": "dial",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 320.0, 500.0, 40.0, 40.0 ],
					"outlettype": [ "float" ],
					"presentation": 1,
					"presentation_rect": [ 400.0, 24.0, 36.0, 36.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-69",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 320.0, 550.0, 70.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "expr $i1/63.5-1."
				}
			},
			{
				"box": {
					"id": "obj-70",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 320.0, 580.0, 70.0, 22.0 ],
					"outlettype": [ "list" ],
					"text": "join 2 @triggers 1"
				}
			},
			{
				"box": {
					"id": "obj-71",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 320.0, 610.0, 70.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "/pad/knob $1 4 $2"
				}
			},
			{
				"box": {
					"id": "obj-72",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 362.0, 500.0, 30.0, 20.0 ],
					"text": "d4",
					"presentation": 1,
					"presentation_rect": [ 410.0, 60.0, 30.0, 20.0 ]
				}
			},
			{
				"box": {
					"id": "obj-73",
					"maxclass": "dial",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 395.0, 500.0, 40.0, 40.0 ],
					"outlettype": [ "float" ],
					"presentation": 1,
					"presentation_rect": [ 440.0, 24.0, 36.0, 36.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-74",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 395.0, 550.0, 70.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "expr $i1/63.5-1."
				}
			},
			{
				"box": {
					"id": "obj-75",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 395.0, 580.0, 70.0, 22.0 ],
					"outlettype": [ "list" ],
					"text": "join 2 @triggers 1"
				}
			},
			{
				"box": {
					"id": "obj-76",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 395.0, 610.0, 70.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "/pad/knob $1 5 $2"
				}
			},
			{
				"box": {
					"id": "obj-77",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 437.0, 500.0, 30.0, 20.0 ],
					"text": "d5",
					"presentation": 1,
					"presentation_rect": [ 450.0, 60.0, 30.0, 20.0 ]
				}
			},
			{
				"box": {
					"id": "obj-78",
					"maxclass": "dial",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 470.0, 500.0, 40.0, 40.0 ],
					"outlettype": [ "float" ],
					"presentation": 1,
					"presentation_rect": [ 480.0, 24.0, 36.0, 36.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-79",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 470.0, 550.0, 70.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "expr $i1/63.5-1."
				}
			},
			{
				"box": {
					"id": "obj-80",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 470.0, 580.0, 70.0, 22.0 ],
					"outlettype": [ "list" ],
					"text": "join 2 @triggers 1"
				}
			},
			{
				"box": {
					"id": "obj-81",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 470.0, 610.0, 70.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "/pad/knob $1 6 $2"
				}
			},
			{
				"box": {
					"id": "obj-82",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 512.0, 500.0, 30.0, 20.0 ],
					"text": "d6",
					"presentation": 1,
					"presentation_rect": [ 490.0, 60.0, 30.0, 20.0 ]
				}
			},
			{
				"box": {
					"id": "obj-83",
					"maxclass": "dial",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 545.0, 500.0, 40.0, 40.0 ],
					"outlettype": [ "float" ],
					"presentation": 1,
					"presentation_rect": [ 520.0, 24.0, 36.0, 36.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-84",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 545.0, 550.0, 70.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "expr $i1/63.5-1."
				}
			},
			{
				"box": {
					"id": "obj-85",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 545.0, 580.0, 70.0, 22.0 ],
					"outlettype": [ "list" ],
					"text": "join 2 @triggers 1"
				}
			},
			{
				"box": {
					"id": "obj-86",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 545.0, 610.0, 70.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "/pad/knob $1 7 $2"
				}
			},
			{
				"box": {
					"id": "obj-87",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 587.0, 500.0, 30.0, 20.0 ],
					"text": "d7",
					"presentation": 1,
					"presentation_rect": [ 530.0, 60.0, 30.0, 20.0 ]
				}
			},
			{
				"box": {
					"id": "obj-88",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 660.0, 470.0, 360.0, 20.0 ],
					"text": "morph the focused pad between two pads (/pad/morph)",
					"presentation": 1,
					"presentation_rect": [ 240.0, 84.0, 320.0, 20.0 ]
				}
			},
			{
				"box": {
					"id": "obj-89",
					"maxclass": "number",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 660.0, 500.0, 50.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"presentation": 1,
					"presentation_rect": [ 240.0, 106.0, 40.0, 22.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-90",
					"maxclass": "number",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 740.0, 500.0, 50.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"presentation": 1,
					"presentation_rect": [ 300.0, 106.0, 40.0, 22.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-91",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 712.0, 500.0, 30.0, 20.0 ],
					"text": "from"
				}
			},
			{
				"box": {
					"id": "obj-92",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 792.0, 500.0, 30.0, 20.0 ],
					"text": "to"
				}
			},
			{
				"box": {
					"id": "obj-93",
					"maxclass": "slider",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 660.0, 530.0, 200.0, 20.0 ],
					"outlettype": [ "" ],
					"presentation": 1,
					"presentation_rect": [ 350.0, 108.0, 190.0, 20.0 ],
					"floatoutput": 1,
					"size": 1.0,
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-94",
					"maxclass": "newobj",
					"numinlets": 4,
					"numoutlets": 1,
					"patching_rect": [ 660.0, 560.0, 140.0, 22.0 ],
					"outlettype": [ "list" ],
					"text": "join 4 @triggers 3"
				}
			},
			{
				"box": {
					"id": "obj-95",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 660.0, 590.0, 168.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "/pad/morph $1 $2 $3 $4"
				}
			},
			{
				"box": {
					"id": "obj-96",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 660.0, 440.0, 84.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "loadmess 0"
				}
			},
			{
				"box": {
					"id": "obj-97",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 740.0, 440.0, 84.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "loadmess 1"
				}
			},
			{
				"box": {
					"id": "obj-98",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 620.0, 100.0, 360.0, 20.0 ],
					"text": "status: /status every 500 ms, /status.reply below"
				}
			},
			{
				"box": {
					"id": "obj-99",
					"maxclass": "toggle",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 620.0, 130.0, 24.0, 24.0 ],
					"outlettype": [ "int" ],
					"presentation": 1,
					"presentation_rect": [ 560.0, 24.0, 20.0, 20.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-100",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 650.0, 130.0, 40.0, 20.0 ],
					"text": "poll",
					"presentation": 1,
					"presentation_rect": [ 582.0, 24.0, 40.0, 20.0 ]
				}
			},
			{
				"box": {
					"id": "obj-101",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 700.0, 130.0, 84.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "loadmess 1"
				}
			},
			{
				"box": {
					"id": "obj-102",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 620.0, 165.0, 77.0, 22.0 ],
					"outlettype": [ "bang" ],
					"text": "metro 500"
				}
			},
			{
				"box": {
					"id": "obj-103",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 620.0, 195.0, 63.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "/status"
				}
			},
			{
				"box": {
					"id": "obj-104",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 4,
					"patching_rect": [ 620.0, 240.0, 259.0, 22.0 ],
					"outlettype": [ "", "", "", "" ],
					"text": "route /status.reply /rendered /fail"
				}
			},
			{
				"box": {
					"id": "obj-105",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 15,
					"patching_rect": [ 620.0, 270.0, 420.0, 22.0 ],
					"outlettype": [ "", "", "", "", "", "", "", "", "", "", "", "", "", "", "" ],
					"text": "unpack 0 0 0 0 0. 0. s 0 0 0 0 0 0 0. 0."
				}
			},
			{
				"box": {
					"id": "obj-106",
					"maxclass": "number",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 620.0, 300.0, 50.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"presentation": 1,
					"presentation_rect": [ 700.0, 24.0, 50.0, 22.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-107",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 672.0, 300.0, 66.0, 20.0 ],
					"text": "voices",
					"presentation": 1,
					"presentation_rect": [ 752.0, 24.0, 70.0, 20.0 ]
				}
			},
			{
				"box": {
					"id": "obj-108",
					"maxclass": "number",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 740.0, 300.0, 50.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"presentation": 1,
					"presentation_rect": [ 700.0, 54.0, 50.0, 22.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-109",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 792.0, 300.0, 66.0, 20.0 ],
					"text": "underflows",
					"presentation": 1,
					"presentation_rect": [ 752.0, 54.0, 70.0, 20.0 ]
				}
			},
			{
				"box": {
					"id": "obj-110",
					"maxclass": "number",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 860.0, 300.0, 50.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"presentation": 1,
					"presentation_rect": [ 700.0, 84.0, 50.0, 22.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-111",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 912.0, 300.0, 66.0, 20.0 ],
					"text": "late",
					"presentation": 1,
					"presentation_rect": [ 752.0, 84.0, 70.0, 20.0 ]
				}
			},
			{
				"box": {
					"id": "obj-112",
					"maxclass": "number",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 980.0, 300.0, 50.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-113",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 1032.0, 300.0, 66.0, 20.0 ],
					"text": "renders"
				}
			},
			{
				"box": {
					"id": "obj-114",
					"maxclass": "flonum",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 620.0, 330.0, 50.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-115",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 672.0, 330.0, 66.0, 20.0 ],
					"text": "render_ms_p50"
				}
			},
			{
				"box": {
					"id": "obj-116",
					"maxclass": "flonum",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 740.0, 330.0, 50.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-117",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 792.0, 330.0, 66.0, 20.0 ],
					"text": "render_ms_p99"
				}
			},
			{
				"box": {
					"id": "obj-118",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 860.0, 330.0, 70.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-119",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 932.0, 330.0, 40.0, 22.0 ],
					"outlettype": [ "" ],
					"text": ""
				}
			},
			{
				"box": {
					"id": "obj-120",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 974.0, 330.0, 50.0, 20.0 ],
					"text": "backend"
				}
			},
			{
				"box": {
					"id": "obj-121",
					"maxclass": "number",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 980.0, 330.0, 50.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-122",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 1032.0, 330.0, 66.0, 20.0 ],
					"text": "sample_rate"
				}
			},
			{
				"box": {
					"id": "obj-123",
					"maxclass": "number",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 620.0, 360.0, 50.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-124",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 672.0, 360.0, 66.0, 20.0 ],
					"text": "received"
				}
			},
			{
				"box": {
					"id": "obj-125",
					"maxclass": "number",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 740.0, 360.0, 50.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-126",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 792.0, 360.0, 66.0, 20.0 ],
					"text": "accepted"
				}
			},
			{
				"box": {
					"id": "obj-127",
					"maxclass": "number",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 860.0, 360.0, 50.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"presentation": 1,
					"presentation_rect": [ 700.0, 114.0, 50.0, 22.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-128",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 912.0, 360.0, 66.0, 20.0 ],
					"text": "rejected",
					"presentation": 1,
					"presentation_rect": [ 752.0, 114.0, 70.0, 20.0 ]
				}
			},
			{
				"box": {
					"id": "obj-129",
					"maxclass": "number",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 980.0, 360.0, 50.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-130",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 1032.0, 360.0, 66.0, 20.0 ],
					"text": "dropped"
				}
			},
			{
				"box": {
					"id": "obj-131",
					"maxclass": "number",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 620.0, 390.0, 50.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-132",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 672.0, 390.0, 66.0, 20.0 ],
					"text": "osc_late"
				}
			},
			{
				"box": {
					"id": "obj-174",
					"maxclass": "flonum",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 740.0, 390.0, 50.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-175",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 792.0, 390.0, 90.0, 20.0 ],
					"text": "limiter_db"
				}
			},
			{
				"box": {
					"id": "obj-176",
					"maxclass": "flonum",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 900.0, 390.0, 50.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-177",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 952.0, 390.0, 90.0, 20.0 ],
					"text": "limiter_max_db"
				}
			},
			{
				"box": {
					"id": "obj-133",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 20.0, 760.0, 720.0, 34.0 ],
					"text": "render server demo: /render a random latent (N(0, 1)) of latent_size floats; /rendered loads the WAV into buffer~ ---gs-render and plays it"
				}
			},
			{
				"box": {
					"id": "obj-134",
					"maxclass": "number",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 20.0, 800.0, 50.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"presentation": 1,
					"presentation_rect": [ 560.0, 112.0, 50.0, 22.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-135",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 75.0, 800.0, 80.0, 20.0 ],
					"text": "latent_size",
					"presentation": 1,
					"presentation_rect": [ 612.0, 112.0, 70.0, 20.0 ]
				}
			},
			{
				"box": {
					"id": "obj-136",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 160.0, 800.0, 98.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "loadmess 100"
				}
			},
			{
				"box": {
					"id": "obj-137",
					"maxclass": "button",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 260.0, 800.0, 24.0, 24.0 ],
					"outlettype": [ "bang" ],
					"presentation": 1,
					"presentation_rect": [ 560.0, 62.0, 24.0, 24.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-138",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 288.0, 800.0, 60.0, 20.0 ],
					"text": "render",
					"presentation": 1,
					"presentation_rect": [ 586.0, 64.0, 60.0, 20.0 ]
				}
			},
			{
				"box": {
					"id": "obj-139",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 3,
					"patching_rect": [ 260.0, 830.0, 63.0, 22.0 ],
					"outlettype": [ "bang", "bang", "bang" ],
					"text": "t b b b"
				}
			},
			{
				"box": {
					"id": "obj-140",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 420.0, 860.0, 63.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "zlclear"
				}
			},
			{
				"box": {
					"id": "obj-141",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 340.0, 860.0, 40.0, 22.0 ],
					"outlettype": [ "int" ],
					"text": "i"
				}
			},
			{
				"box": {
					"id": "obj-142",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 3,
					"patching_rect": [ 340.0, 890.0, 40.0, 22.0 ],
					"outlettype": [ "bang", "bang", "int" ],
					"text": "uzi"
				}
			},
			{
				"box": {
					"id": "obj-143",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 340.0, 920.0, 49.0, 22.0 ],
					"outlettype": [ "bang", "bang" ],
					"text": "t b b"
				}
			},
			{
				"box": {
					"id": "obj-144",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 340.0, 950.0, 112.0, 22.0 ],
					"outlettype": [ "int" ],
					"text": "random 1000000"
				}
			},
			{
				"box": {
					"id": "obj-145",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 470.0, 950.0, 112.0, 22.0 ],
					"outlettype": [ "int" ],
					"text": "random 1000000"
				}
			},
			{
				"box": {
					"id": "obj-146",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 340.0, 980.0, 420.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "expr sqrt(-2.*log(($i1+1)/1000000.))*cos(6.283185*$i2/1000000.)"
				}
			},
			{
				"box": {
					"id": "obj-147",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"patching_rect": [ 260.0, 1010.0, 105.0, 22.0 ],
					"outlettype": [ "", "" ],
					"text": "zl group 4096"
				}
			},
			{
				"box": {
					"id": "obj-148",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 260.0, 1040.0, 49.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"text": "t l b"
				}
			},
			{
				"box": {
					"id": "obj-149",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 360.0, 1070.0, 40.0, 22.0 ],
					"outlettype": [ "int" ],
					"text": "i"
				}
			},
			{
				"box": {
					"id": "obj-150",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 400.0, 1070.0, 40.0, 22.0 ],
					"outlettype": [ "int" ],
					"text": "+ 1"
				}
			},
			{
				"box": {
					"id": "obj-151",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 360.0, 1100.0, 147.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "prepend set /render"
				}
			},
			{
				"box": {
					"id": "obj-152",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 260.0, 1130.0, 133.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "prepend /render 0"
				}
			},
			{
				"box": {
					"id": "obj-153",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 4,
					"patching_rect": [ 760.0, 800.0, 112.0, 22.0 ],
					"outlettype": [ "", "", "", "" ],
					"text": "unpack 0 s 0 0"
				}
			},
			{
				"box": {
					"id": "obj-154",
					"maxclass": "number",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 760.0, 830.0, 50.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-155",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 812.0, 830.0, 80.0, 20.0 ],
					"text": "request_id"
				}
			},
			{
				"box": {
					"id": "obj-156",
					"maxclass": "number",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 760.0, 860.0, 50.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"presentation": 1,
					"presentation_rect": [ 620.0, 142.0, 60.0, 22.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-157",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 812.0, 860.0, 80.0, 20.0 ],
					"text": "frames",
					"presentation": 1,
					"presentation_rect": [ 682.0, 142.0, 50.0, 20.0 ]
				}
			},
			{
				"box": {
					"id": "obj-158",
					"maxclass": "number",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 760.0, 890.0, 50.0, 22.0 ],
					"outlettype": [ "", "bang" ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-159",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 812.0, 890.0, 80.0, 20.0 ],
					"text": "sample_rate"
				}
			},
			{
				"box": {
					"id": "obj-160",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 900.0, 830.0, 119.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "prepend replace"
				}
			},
			{
				"box": {
					"id": "obj-161",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 900.0, 860.0, 154.0, 22.0 ],
					"outlettype": [ "float", "bang" ],
					"text": "buffer~ ---gs-render"
				}
			},
			{
				"box": {
					"id": "obj-162",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 900.0, 890.0, 49.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "start"
				}
			},
			{
				"box": {
					"id": "obj-163",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"patching_rect": [ 900.0, 920.0, 140.0, 22.0 ],
					"outlettype": [ "signal", "bang" ],
					"text": "play~ ---gs-render"
				}
			},
			{
				"box": {
					"id": "obj-164",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 900.0, 950.0, 56.0, 22.0 ],
					"outlettype": [ "signal" ],
					"text": "*~ 0.5"
				}
			},
			{
				"box": {
					"id": "obj-165",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"patching_rect": [ 900.0, 980.0, 70.0, 22.0 ],
					"outlettype": [ "signal", "signal" ],
					"text": "plugout~"
				}
			},
			{
				"box": {
					"id": "obj-166",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 0,
					"patching_rect": [ 900.0, 1010.0, 42.0, 22.0 ],
					"text": "dac~"
				}
			},
			{
				"box": {
					"id": "obj-167",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 980.0, 980.0, 260.0, 48.0 ],
					"text": "in a Max for Live device plugout~ plays into Live; in Max it passes its input on to dac~"
				}
			},
			{
				"box": {
					"id": "obj-168",
					"maxclass": "button",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 860.0, 890.0, 24.0, 24.0 ],
					"outlettype": [ "bang" ],
					"presentation": 1,
					"presentation_rect": [ 620.0, 62.0, 24.0, 24.0 ],
					"parameter_enable": 0
				}
			},
			{
				"box": {
					"id": "obj-169",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 620.0, 1040.0, 40.0, 20.0 ],
					"text": "play",
					"presentation": 1,
					"presentation_rect": [ 646.0, 64.0, 40.0, 20.0 ]
				}
			},
			{
				"box": {
					"id": "obj-170",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"patching_rect": [ 1100.0, 240.0, 91.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-171",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"patching_rect": [ 1100.0, 270.0, 300.0, 22.0 ],
					"outlettype": [ "" ],
					"text": "",
					"presentation": 1,
					"presentation_rect": [ 240.0, 138.0, 440.0, 22.0 ]
				}
			},
			{
				"box": {
					"id": "obj-172",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 1200.0, 240.0, 140.0, 22.0 ],
					"text": "print ganshot-fail"
				}
			},
			{
				"box": {
					"id": "obj-173",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 1100.0, 210.0, 200.0, 20.0 ],
					"text": "last /fail (address, reason)"
				}
			}
		],
		"lines": [
			{
				"patchline": {
					"source": [ "obj-13", 0 ],
					"destination": [ "obj-14", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-14", 0 ],
					"destination": [ "obj-12", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-15", 0 ],
					"destination": [ "obj-16", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-16", 0 ],
					"destination": [ "obj-12", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-17", 0 ],
					"destination": [ "obj-18", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-18", 0 ],
					"destination": [ "obj-12", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-19", 0 ],
					"destination": [ "obj-20", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-20", 0 ],
					"destination": [ "obj-12", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-21", 0 ],
					"destination": [ "obj-22", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-22", 0 ],
					"destination": [ "obj-12", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-23", 0 ],
					"destination": [ "obj-24", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-24", 0 ],
					"destination": [ "obj-12", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-25", 0 ],
					"destination": [ "obj-26", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-26", 0 ],
					"destination": [ "obj-12", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-27", 0 ],
					"destination": [ "obj-28", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-28", 0 ],
					"destination": [ "obj-12", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-29", 0 ],
					"destination": [ "obj-30", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-30", 0 ],
					"destination": [ "obj-12", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-31", 0 ],
					"destination": [ "obj-32", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-32", 0 ],
					"destination": [ "obj-12", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-33", 0 ],
					"destination": [ "obj-34", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-34", 0 ],
					"destination": [ "obj-12", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-35", 0 ],
					"destination": [ "obj-36", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-36", 0 ],
					"destination": [ "obj-12", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-37", 0 ],
					"destination": [ "obj-38", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-38", 0 ],
					"destination": [ "obj-12", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-39", 0 ],
					"destination": [ "obj-40", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-40", 0 ],
					"destination": [ "obj-12", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-41", 0 ],
					"destination": [ "obj-42", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-42", 0 ],
					"destination": [ "obj-12", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-43", 0 ],
					"destination": [ "obj-44", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-44", 0 ],
					"destination": [ "obj-12", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-12", 1 ],
					"destination": [ "obj-6", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-6", 0 ],
					"destination": [ "obj-45", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-45", 0 ],
					"destination": [ "obj-2", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-12", 0 ],
					"destination": [ "obj-10", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-8", 0 ],
					"destination": [ "obj-10", 1 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-10", 0 ],
					"destination": [ "obj-11", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-11", 0 ],
					"destination": [ "obj-2", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-46", 0 ],
					"destination": [ "obj-8", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-48", 0 ],
					"destination": [ "obj-49", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-49", 0 ],
					"destination": [ "obj-50", 1 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-6", 0 ],
					"destination": [ "obj-50", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-50", 0 ],
					"destination": [ "obj-51", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-51", 0 ],
					"destination": [ "obj-2", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-53", 0 ],
					"destination": [ "obj-54", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-54", 0 ],
					"destination": [ "obj-55", 1 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-6", 0 ],
					"destination": [ "obj-55", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-55", 0 ],
					"destination": [ "obj-56", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-56", 0 ],
					"destination": [ "obj-2", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-58", 0 ],
					"destination": [ "obj-59", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-59", 0 ],
					"destination": [ "obj-60", 1 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-6", 0 ],
					"destination": [ "obj-60", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-60", 0 ],
					"destination": [ "obj-61", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-61", 0 ],
					"destination": [ "obj-2", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-63", 0 ],
					"destination": [ "obj-64", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-64", 0 ],
					"destination": [ "obj-65", 1 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-6", 0 ],
					"destination": [ "obj-65", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-65", 0 ],
					"destination": [ "obj-66", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-66", 0 ],
					"destination": [ "obj-2", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-68", 0 ],
					"destination": [ "obj-69", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-69", 0 ],
					"destination": [ "obj-70", 1 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-6", 0 ],
					"destination": [ "obj-70", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-70", 0 ],
					"destination": [ "obj-71", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-71", 0 ],
					"destination": [ "obj-2", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-73", 0 ],
					"destination": [ "obj-74", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-74", 0 ],
					"destination": [ "obj-75", 1 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-6", 0 ],
					"destination": [ "obj-75", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-75", 0 ],
					"destination": [ "obj-76", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-76", 0 ],
					"destination": [ "obj-2", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-78", 0 ],
					"destination": [ "obj-79", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-79", 0 ],
					"destination": [ "obj-80", 1 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-6", 0 ],
					"destination": [ "obj-80", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-80", 0 ],
					"destination": [ "obj-81", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-81", 0 ],
					"destination": [ "obj-2", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-83", 0 ],
					"destination": [ "obj-84", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-84", 0 ],
					"destination": [ "obj-85", 1 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-6", 0 ],
					"destination": [ "obj-85", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-85", 0 ],
					"destination": [ "obj-86", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-86", 0 ],
					"destination": [ "obj-2", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-6", 0 ],
					"destination": [ "obj-94", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-89", 0 ],
					"destination": [ "obj-94", 1 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-90", 0 ],
					"destination": [ "obj-94", 2 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-93", 0 ],
					"destination": [ "obj-94", 3 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-94", 0 ],
					"destination": [ "obj-95", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-95", 0 ],
					"destination": [ "obj-2", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-96", 0 ],
					"destination": [ "obj-89", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-97", 0 ],
					"destination": [ "obj-90", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-101", 0 ],
					"destination": [ "obj-99", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-99", 0 ],
					"destination": [ "obj-102", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-102", 0 ],
					"destination": [ "obj-103", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-103", 0 ],
					"destination": [ "obj-2", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-3", 0 ],
					"destination": [ "obj-104", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-104", 0 ],
					"destination": [ "obj-105", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-105", 0 ],
					"destination": [ "obj-106", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-105", 1 ],
					"destination": [ "obj-108", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-105", 2 ],
					"destination": [ "obj-110", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-105", 3 ],
					"destination": [ "obj-112", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-105", 4 ],
					"destination": [ "obj-114", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-105", 5 ],
					"destination": [ "obj-116", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-105", 6 ],
					"destination": [ "obj-118", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-118", 0 ],
					"destination": [ "obj-119", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-105", 7 ],
					"destination": [ "obj-121", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-105", 8 ],
					"destination": [ "obj-123", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-105", 9 ],
					"destination": [ "obj-125", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-105", 10 ],
					"destination": [ "obj-127", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-105", 11 ],
					"destination": [ "obj-129", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-105", 12 ],
					"destination": [ "obj-131", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-105", 13 ],
					"destination": [ "obj-174", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-105", 14 ],
					"destination": [ "obj-176", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-136", 0 ],
					"destination": [ "obj-134", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-137", 0 ],
					"destination": [ "obj-139", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-134", 0 ],
					"destination": [ "obj-141", 1 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-139", 2 ],
					"destination": [ "obj-140", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-140", 0 ],
					"destination": [ "obj-147", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-139", 1 ],
					"destination": [ "obj-141", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-141", 0 ],
					"destination": [ "obj-142", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-142", 0 ],
					"destination": [ "obj-143", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-143", 1 ],
					"destination": [ "obj-145", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-143", 0 ],
					"destination": [ "obj-144", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-145", 0 ],
					"destination": [ "obj-146", 1 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-144", 0 ],
					"destination": [ "obj-146", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-146", 0 ],
					"destination": [ "obj-147", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-139", 0 ],
					"destination": [ "obj-147", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-147", 0 ],
					"destination": [ "obj-148", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-148", 1 ],
					"destination": [ "obj-149", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-149", 0 ],
					"destination": [ "obj-150", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-150", 0 ],
					"destination": [ "obj-149", 1 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-149", 0 ],
					"destination": [ "obj-151", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-151", 0 ],
					"destination": [ "obj-152", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-148", 0 ],
					"destination": [ "obj-152", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-152", 0 ],
					"destination": [ "obj-2", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-104", 1 ],
					"destination": [ "obj-153", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-153", 0 ],
					"destination": [ "obj-154", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-153", 1 ],
					"destination": [ "obj-160", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-153", 2 ],
					"destination": [ "obj-156", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-153", 3 ],
					"destination": [ "obj-158", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-160", 0 ],
					"destination": [ "obj-161", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-161", 1 ],
					"destination": [ "obj-162", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-168", 0 ],
					"destination": [ "obj-162", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-162", 0 ],
					"destination": [ "obj-163", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-163", 0 ],
					"destination": [ "obj-164", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-164", 0 ],
					"destination": [ "obj-165", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-164", 0 ],
					"destination": [ "obj-165", 1 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-165", 0 ],
					"destination": [ "obj-166", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-165", 1 ],
					"destination": [ "obj-166", 1 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-104", 2 ],
					"destination": [ "obj-170", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-170", 0 ],
					"destination": [ "obj-171", 0 ]
				}
			},
			{
				"patchline": {
					"source": [ "obj-104", 2 ],
					"destination": [ "obj-172", 0 ]
				}
			}
		]
	}
}
